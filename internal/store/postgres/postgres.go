// Package postgres is the store of several govmail nodes sharing one PostgreSQL
// database (DESIGN decision 4): metadata, bodies, queue and logs all live in the
// database, so nodes share no file system. It passes the same conformance suite
// as store/sqlite, with the same meanings for every method.
//
// What it owns beyond the tables: the cross-node change feed. Every transaction
// that makes store.Events also sends them with pg_notify on one channel, inside
// the transaction, so that they are published if and only if it commits and in
// commit order; every node LISTENs on one dedicated connection and hands the
// events, its own included, to its listeners in the order PostgreSQL delivers
// them. A write returns after its own events went round (feed.go).
//
// What it never does: decide policy, keep state in memory that another node
// could contradict, or rely on one node's clock for ordering (modseq and UIDs
// are allocated by row updates inside the transaction).
//
// Locking order, to keep writers free of deadlocks: the namespace advisory lock,
// then accounts rows (ascending id), then mailboxes rows (ascending id), then
// blobs rows (ascending id). A deadlock or serialisation failure that slips
// through anyway is retried.
package postgres

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"govmail/internal/clock"
	"govmail/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys (two-int form: a class and an object). The class values
// spell "gm.." so that they are recognisable in pg_locks.
const (
	lockClassMigrate   = 0x676d6d67 // "gmmg": one node migrates at a time
	lockClassNamespace = 0x676d6e73 // "gmns": the address namespace (R5.7)
	lockClassJob       = 0x676d6a62 // "gmjb": daily jobs, one node each
)

// Options configure Open.
type Options struct {
	// DSN is a libpq connection string or postgres:// URL.
	DSN    string
	Clock  clock.Clock
	Logger *slog.Logger
	// MaxConns bounds the pool (0: pgxpool's default, max(4, CPUs)). The feed
	// takes one more connection of its own.
	MaxConns int32
	// MinConns are kept open when idle.
	MinConns int32
	// MaxConnLifetime and MaxConnIdleTime recycle connections (0: defaults).
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
	// Channel is the LISTEN/NOTIFY channel of the change feed; every node of
	// one deployment must use the same one. Default "govmail_events".
	Channel string
	// FeedWait bounds how long a write waits for its own notification before
	// it hands its events to the local listeners itself. Default 5 s.
	FeedWait time.Duration
}

// Store is the PostgreSQL store.
type Store struct {
	pool    *pgxpool.Pool
	clock   clock.Clock
	log     *slog.Logger
	channel string
	node    string // random id of this Store in notifications
	seq     atomic.Uint64
	feed    *feed

	closed    atomic.Bool
	closeOnce sync.Once
}

var (
	_ store.Store          = (*Store)(nil)
	_ store.QueueStore     = (*Store)(nil)
	_ store.ReportStore    = (*Store)(nil)
	_ store.OutageStore    = (*Store)(nil)
	_ store.TokenStore     = (*Store)(nil)
	_ store.MigrationStore = (*Store)(nil)
)

// Open connects, migrates the schema and starts the change feed. It returns
// once this node is listening, so that no event committed after Open returns
// is missed.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Channel == "" {
		opts.Channel = "govmail_events"
	}
	if opts.FeedWait <= 0 {
		opts.FeedWait = 5 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 {
		cfg.MinConns = opts.MinConns
	}
	if opts.MaxConnLifetime > 0 {
		cfg.MaxConnLifetime = opts.MaxConnLifetime
	}
	if opts.MaxConnIdleTime > 0 {
		cfg.MaxConnIdleTime = opts.MaxConnIdleTime
	}
	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return nil, fmt.Errorf("postgres: node id: %w", err)
	}
	s := &Store{
		clock:   opts.Clock,
		log:     opts.Logger,
		channel: opts.Channel,
		node:    hex.EncodeToString(nb[:]),
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("postgres: pool: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	s.warnNotDurable(ctx)
	s.feed = newFeed(s, cfg.ConnConfig.Copy(), opts.FeedWait)
	if err := s.feed.start(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// warnNotDurable says so when the server is set to acknowledge commits it may
// lose: DESIGN decision 5 promises that an accepted message is on disk, and
// the store relies on the server for that.
func (s *Store) warnNotDurable(ctx context.Context) {
	for _, p := range []struct{ name, bad string }{{"synchronous_commit", "off"}, {"fsync", "off"}} {
		var v string
		if err := s.pool.QueryRow(ctx, `SELECT current_setting($1)`, p.name).Scan(&v); err != nil {
			s.log.Warn("postgres: cannot read setting", "setting", p.name, "err", err)
			continue
		}
		if v == p.bad {
			s.log.Warn("postgres: commits are not durable; a crash may lose acknowledged mail", "setting", p.name, "value", v)
		}
	}
}

// Pool is the connection pool, for tools that read the tables directly
// (govmail migrate verifies what it copied).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// migrate applies the embedded migrations not yet applied, under an advisory
// lock so that nodes starting together do not race.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, 0)`, lockClassMigrate); err != nil {
		return fmt.Errorf("migrate lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, 0)`, lockClassMigrate); err != nil {
			s.log.Warn("migrate unlock", "err", err)
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	for _, n := range names {
		var one int
		err := conn.QueryRow(ctx, `SELECT 1 FROM schema_migrations WHERE version = $1`, n.Name()).Scan(&one)
		if err == nil {
			continue
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("migrate: %w", err)
		}
		body, err := migrations.ReadFile("migrations/" + n.Name())
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			// No arguments: the simple protocol, which runs a file of statements.
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations VALUES ($1, $2)`, n.Name(), time.Now().Unix())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", n.Name(), err)
		}
		s.log.Info("database migrated", "version", n.Name())
	}
	return nil
}

// Close stops the feed and closes the pool; writes in flight finish first
// (the pool waits for its connections to come back).
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.feed.stop()
		s.pool.Close()
	})
	return nil
}

// writeCtx collects what a transaction did, for after the commit.
type writeCtx struct {
	events []store.Event
}

// maxAttempts bounds retries of a transaction that lost a deadlock or a
// serialisation conflict; the lock order above makes them rare.
const maxAttempts = 5

// write runs fn in a transaction and commits it; it returns after the commit
// and after the listeners have had the transaction's events.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx, w *writeCtx) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			return full(err)
		}
		s.log.Debug("transaction retried", "attempt", attempt, "err", err)
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(attempt)*5+1))
		time.Sleep(time.Duration(n.Int64()+1) * time.Millisecond)
	}
}

func (s *Store) writeOnce(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx, w *writeCtx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		if s.closed.Load() {
			return store.ErrClosed
		}
		return fmt.Errorf("begin: %w", err)
	}
	// Rolling back must not depend on the caller's context, or a cancelled
	// request would leave the connection's transaction open.
	bg := context.WithoutCancel(ctx)
	w := &writeCtx{}
	if err := fn(ctx, tx, w); err != nil {
		tx.Rollback(bg)
		return err
	}
	var wt *waiter
	if len(w.events) > 0 {
		seq := s.seq.Add(1)
		for _, p := range encodeNotices(s.node, seq, w.events) {
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel, p); err != nil {
				tx.Rollback(bg)
				return fmt.Errorf("notify: %w", err)
			}
		}
		wt = s.feed.expect(seq, w.events)
	}
	// Once COMMIT is sent, its outcome is the caller's answer: a cancelled
	// context must not report failure for a transaction that then commits.
	if err := tx.Commit(bg); err != nil {
		s.feed.abandon(wt)
		return fmt.Errorf("commit: %w", err)
	}
	s.feed.await(wt)
	return nil
}

// retryable tells a conflict that running the transaction again resolves.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// full marks a write that failed for lack of space on the database server,
// so that protocols can say so (452 4.3.1, NO) as with SQLite.
func full(err error) error {
	if err == nil || errors.Is(err, store.ErrStorageFull) {
		return err
	}
	if pgCode(err) == "53100" { // disk_full
		return fmt.Errorf("%w: %w", store.ErrStorageFull, err)
	}
	return err
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUnique(err error) bool     { return pgCode(err) == "23505" }
func isForeignKey(err error) bool { return pgCode(err) == "23503" }

// querier is what a transaction and the pool both offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// lockNamespace serialises the transactions that give or take addresses, so
// that the check of R5.7 and the insert that follows it are one step.
func lockNamespace(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClassNamespace); err != nil {
		return fmt.Errorf("namespace lock: %w", err)
	}
	return nil
}

func expectOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// clean makes text storable: PostgreSQL refuses NUL and invalid UTF-8 in text
// columns where SQLite keeps any bytes. Log rows and queue fields carry what
// remote peers and clients sent, and a log row must never make a delivery fail.
func clean(s string) string {
	if !strings.ContainsRune(s, 0) && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
