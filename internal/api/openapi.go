package api

import (
	_ "embed"
	"net/http"
)

// openapiJSON is the API's OpenAPI 3 document, written by hand and embedded;
// TestOpenAPIMatchesRoutes keeps it and the route table the same.
//
//go:embed openapi.json
var openapiJSON []byte

func (a *API) openAPI(c *call) error {
	h := c.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(openapiJSON)
	return nil
}
