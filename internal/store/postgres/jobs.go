package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// TryJobLock takes the cluster-wide lock of a daily job so that one node runs
// it (DESIGN decision 4). ok is false when another node holds it. The lock is
// a session advisory lock on a connection kept out of the pool until release;
// should that connection or this node die, PostgreSQL drops the lock and
// another node may run the job, which the jobs' idempotency (MarkNotice)
// makes harmless.
func (s *Store) TryJobLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("job lock %s: %w", name, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, lockClassJob, name).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("job lock %s: %w", name, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	var once sync.Once
	return func() { once.Do(func() { s.releaseJob(ctx, conn, name) }) }, true, nil
}

func (s *Store) releaseJob(ctx context.Context, conn *pgxpool.Conn, name string) {
	ctx = context.WithoutCancel(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, lockClassJob, name); err != nil {
		// The lock would outlive the job on a pooled connection: close it.
		s.log.Warn("job unlock", "job", name, "err", err)
		conn.Conn().Close(ctx)
	}
	conn.Release()
}
