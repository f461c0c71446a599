// Package metrics owns the Prometheus collectors of govmail (R13.2). They live in
// a registry passed to whoever serves /metrics; nothing registers globally.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the collectors the protocol layers update.
type Metrics struct {
	Registry    *prometheus.Registry
	Connections *prometheus.GaugeVec   // by service
	Accepted    *prometheus.CounterVec // connections accepted, by service
	Deliveries  *prometheus.CounterVec // recipients by result
	DeliveryDur prometheus.Histogram   // DATA end to commit
	AuthResults *prometheus.CounterVec // by proto and result
	Errors      *prometheus.CounterVec // by component
	StoreBytes  prometheus.GaugeFunc
}

// New makes and registers the collectors. storeBytes reports the data size.
func New(storeBytes func() float64) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "govmail_connections", Help: "Open client connections by service."}, []string{"service"}),
		Accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govmail_connections_total", Help: "Connections accepted by service."}, []string{"service"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govmail_deliveries_total", Help: "Recipients of delivered or refused messages by result."}, []string{"result"}),
		DeliveryDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "govmail_delivery_seconds", Help: "Time from end of DATA to durable commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		AuthResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govmail_auth_total", Help: "Authentication attempts by protocol and result."}, []string{"proto", "result"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govmail_errors_total", Help: "Internal errors by component."}, []string{"component"}),
	}
	r.MustRegister(m.Connections, m.Accepted, m.Deliveries, m.DeliveryDur, m.AuthResults, m.Errors,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	if storeBytes != nil {
		m.StoreBytes = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "govmail_store_bytes", Help: "Bytes used by the data directory's database and blobs."}, storeBytes)
		r.MustRegister(m.StoreBytes)
	}
	return m
}
