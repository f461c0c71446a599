// Package sqlite is the embedded store (DESIGN decision 3): one SQLite database in
// WAL mode for metadata, small bodies and the search index, and a blobs/ directory
// for large bodies. Every write goes through one writer goroutine that commits
// whatever is queued together (group commit, DESIGN decision 5): a delivery waits
// for one fsync shared with every other delivery in flight.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"govmail/internal/clock"
	"govmail/internal/store"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure Open.
type Options struct {
	Dir    string // holds govmail.db and blobs/
	Clock  clock.Clock
	Logger *slog.Logger
	// InlineMax is the largest body kept inside the database; larger ones go to
	// files. Inline bodies ride on the shared WAL sync, files need their own.
	InlineMax int
	// MaxBatch bounds how many writes share one commit.
	MaxBatch int
}

// Store is the SQLite store.
type Store struct {
	dir     string
	blobDir string
	clock   clock.Clock
	log     *slog.Logger
	inline  int
	wdb     *sql.DB // one connection: the writer
	rdb     *sql.DB // readers
	jobs    chan *job
	quit    chan struct{}
	done    chan struct{}
	maxB    int

	lmu       sync.Mutex
	listeners map[int]func([]store.Event)
	nextL     int

	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

type job struct {
	fn   func(tx *sql.Tx, w *writeCtx) error
	done chan error
}

// writeCtx collects what a job's transaction did for after the commit.
type writeCtx struct {
	events      []store.Event
	deleteFiles []string
}

func dsn(path string, readOnly bool) string {
	q := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	if readOnly {
		q = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=query_only(1)"
	}
	return "file:" + path + "?" + q
}

// Open opens or creates the store under opts.Dir.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.InlineMax <= 0 {
		opts.InlineMax = 256 << 10
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	s := &Store{
		dir:       opts.Dir,
		blobDir:   filepath.Join(opts.Dir, "blobs"),
		clock:     opts.Clock,
		log:       opts.Logger,
		inline:    opts.InlineMax,
		maxB:      opts.MaxBatch,
		jobs:      make(chan *job, 1024),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		listeners: map[int]func([]store.Event){},
	}
	if err := os.MkdirAll(s.blobDir, 0o700); err != nil {
		return nil, fmt.Errorf("store dir: %w", err)
	}
	path := filepath.Join(opts.Dir, "govmail.db")
	var err error
	if s.wdb, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("open db: %w", err)
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if err := s.migrate(ctx); err != nil {
		s.wdb.Close()
		return nil, err
	}
	if s.rdb, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		s.wdb.Close()
		return nil, fmt.Errorf("open db: %w", err)
	}
	s.rdb.SetMaxOpenConns(8)
	s.rdb.SetMaxIdleConns(8)
	go s.writer()
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	for _, n := range names {
		var one int
		err := s.wdb.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, n.Name()).Scan(&one)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("migrate: %w", err)
		}
		body, err := migrations.ReadFile("migrations/" + n.Name())
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		tx, err := s.wdb.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", n.Name(), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?)`, n.Name(), time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s: %w", n.Name(), err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s: %w", n.Name(), err)
		}
		s.log.Info("database migrated", "version", n.Name())
	}
	return nil
}

// Close stops the writer after it has committed what is queued.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.done
		s.rdb.Close()
		s.wdb.Close()
	})
	return nil
}

// write runs fn in the next group commit and waits for the commit.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx, w *writeCtx) error) error {
	j := &job{fn: fn, done: make(chan error, 1)}
	select {
	case s.jobs <- j:
	case <-s.quit:
		return store.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the job will run: wait for it even if ctx ends, so that the
	// caller never reports failure for a write that then commits.
	return full(<-j.done)
}

// full marks a write that failed for lack of space, so that protocols can say
// so (452 4.3.1, NO) instead of a generic error.
func full(err error) error {
	if err == nil || errors.Is(err, store.ErrStorageFull) {
		return err
	}
	if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "database or disk is full") || strings.Contains(err.Error(), "SQLITE_FULL") {
		return fmt.Errorf("%w: %w", store.ErrStorageFull, err)
	}
	return err
}

func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*job, 0, s.maxB)
	for {
		batch = batch[:0]
		select {
		case j := <-s.jobs:
			batch = append(batch, j)
		case <-s.quit:
			// Drain what was queued before Close.
			for {
				select {
				case j := <-s.jobs:
					s.commit([]*job{j})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < s.maxB {
			select {
			case j := <-s.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

func (s *Store) commit(batch []*job) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	fail := func(err error) {
		for _, j := range batch {
			j.done <- err
		}
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	var events []store.Event
	var files []string
	for i, j := range batch {
		w := &writeCtx{}
		if len(batch) > 1 {
			if _, err := tx.Exec(`SAVEPOINT j`); err != nil {
				tx.Rollback()
				fail(fmt.Errorf("savepoint: %w", err))
				return
			}
		}
		err := j.fn(tx, w)
		if len(batch) > 1 {
			if err != nil {
				if _, rerr := tx.Exec(`ROLLBACK TO j`); rerr != nil {
					tx.Rollback()
					fail(fmt.Errorf("rollback to savepoint: %w", rerr))
					return
				}
			}
			if _, rerr := tx.Exec(`RELEASE j`); rerr != nil {
				tx.Rollback()
				fail(fmt.Errorf("release savepoint: %w", rerr))
				return
			}
		}
		errs[i] = err
		if err == nil {
			events = append(events, w.events...)
			files = append(files, w.deleteFiles...)
		}
	}
	if len(batch) == 1 && errs[0] != nil {
		tx.Rollback()
		batch[0].done <- errs[0]
		return
	}
	if err := tx.Commit(); err != nil {
		fail(fmt.Errorf("commit: %w", err))
		return
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			s.log.Warn("blob file not removed", "file", f, "err", err)
		}
	}
	if len(events) > 0 {
		s.lmu.Lock()
		for _, fn := range s.listeners {
			fn(events)
		}
		s.lmu.Unlock()
	}
	for i, j := range batch {
		j.done <- errs[i]
	}
}

// Listen registers fn for committed events.
func (s *Store) Listen(fn func([]store.Event)) func() {
	s.lmu.Lock()
	id := s.nextL
	s.nextL++
	s.listeners[id] = fn
	s.lmu.Unlock()
	return func() {
		s.lmu.Lock()
		delete(s.listeners, id)
		s.lmu.Unlock()
	}
}
