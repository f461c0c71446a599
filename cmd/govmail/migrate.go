package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"govmail/internal/app"
	"govmail/internal/config"
	"govmail/internal/delivery"
	"govmail/internal/store/postgres"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read the SQLite store as it is
)

const migrateUsage = `usage: govmail migrate --to postgres://USER@HOST:PORT/DB [-data DIR | -config FILE] [-batch N]

Copies the SQLite store of a deployment (DIR/govmail.db and DIR/blobs) into an
empty PostgreSQL database, keeping every id, then checks that every table has
as many rows on both sides and that every body's sha256 is the same on both
sides, and prints the figures.

Stop "govmail serve" first. The copy reads one consistent snapshot of the
SQLite database (a read-only transaction, which SQLite's WAL lets run beside a
live server, e.g. for a rehearsal), so what the server commits after the
snapshot starts is not copied, and a body the server deletes meanwhile makes
the copy fail. Nothing is written to the SQLite side. The PostgreSQL side is
written in one transaction: a failed copy leaves the database empty.
`

// migrateTable is one table to copy, in an order that satisfies the foreign
// keys of the PostgreSQL schema.
type migrateTable struct {
	name  string
	order string // the SQLite ORDER BY: ids keep their order
	// rename maps a PostgreSQL column to the SQLite expression giving it.
	rename map[string]string
	// drop lists SQLite columns with no PostgreSQL counterpart, on purpose.
	drop []string
}

var migrateTables = []migrateTable{
	{name: "accounts", order: "id"},
	// A unit's parent was created before it, so id order satisfies parent_id.
	{name: "units", order: "id"},
	{name: "mailboxes", order: "id"},
	// Bodies move into the database: in_file says where SQLite kept them.
	{name: "blobs", order: "id", drop: []string{"in_file"}},
	{name: "messages", order: "mailbox_id, uid"},
	{name: "translog", order: "id"},
	{name: "aliases", order: "address"},
	{name: "released_addresses", order: "address"},
	{name: "password_history", order: "rowid", rename: map[string]string{"id": "rowid"}},
	{name: "auth_log", order: "id"},
	{name: "audit_log", order: "id"},
	{name: "absences", order: "id"},
	{name: "requests", order: "id"},
	{name: "request_targets", order: "request_id, account_id"},
	{name: "request_events", order: "id"},
	{name: "delegations", order: "unit_account_id, delegate_id"},
	{name: "notices_sent", order: "account_id, kind, key"},
	{name: "queue_messages", order: "id"},
	{name: "queue_rcpts", order: "id"},
	{name: "app_passwords", order: "id"},
	{name: "report_sends", order: "key"},
	{name: "outages", order: "id"},
	{name: "outage_units", order: "outage_id, unit_id"},
	{name: "outage_recipients", order: "outage_id, account_id"},
	{name: "api_tokens", order: "id"},
	{name: "import_folders", order: "id"},
	{name: "import_uids", order: "folder_id, uidvalidity, src_uid"},
	{name: "web_sessions", order: "id_hash"},
	{name: "throttle_state", order: "key"},
	{name: "smime_identities", order: "account_id"},
	{name: "user_settings", order: "account_id, key"},
	{name: "auth_event_counts", order: "kind, day, domain, key"},
	{name: "auth_reports_sent", order: "kind, day, domain"},
	{name: "received_reports", order: "id"},
}

// migrateIgnored are SQLite tables that are not data: the migration record
// (PostgreSQL keeps its own) and the search index, which keeps no text and is
// rebuilt from the bodies.
func migrateIgnored(name string) bool {
	return name == "schema_migrations" || name == "blob_text" || strings.HasPrefix(name, "blob_text_") || strings.HasPrefix(name, "sqlite_")
}

// cmdMigrate runs `govmail migrate`.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage) }
	data := fs.String("data", "./data", "data directory of the SQLite deployment")
	cfgPath := fs.String("config", "", "configuration file (default DATA/govmail.toml)")
	to := fs.String("to", "", "PostgreSQL connection URL of the empty target database")
	batch := fs.Int("batch", 1000, "rows per COPY batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, migrateUsage)
		return errors.New("migrate: --to is required")
	}
	dir, err := migrateDataDir(*data, *cfgPath)
	if err != nil {
		return err
	}
	m := &migrator{dir: dir, batch: max(*batch, 1), out: stdout}
	return m.run(ctx, *to)
}

// migrateDataDir finds the data directory without creating anything.
func migrateDataDir(data, cfgPath string) (string, error) {
	if cfgPath == "" {
		if p := filepath.Join(data, app.ConfigFile); fileExists(p) {
			cfgPath = p
		}
	}
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return "", err
		}
		data = cfg.DataDir
	}
	if !fileExists(filepath.Join(data, "govmail.db")) {
		return "", fmt.Errorf("migrate: no SQLite store in %s (govmail.db missing)", data)
	}
	return data, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

type migrator struct {
	dir   string
	batch int
	out   io.Writer

	src *sql.Tx // one read snapshot of the SQLite store
	// indexed are the bodies SQLite's search index holds: rebuilt for them.
	indexed map[int64]bool
	// figures
	counts   map[string][2]int64 // table → sqlite, postgres
	digest   [2][]byte           // bodies' digest: sqlite, postgres
	bodies   int64
	bytes    int64
	cleaned  int // text values PostgreSQL could not store as they were
	reindex  int
	sequence int
}

func (m *migrator) run(ctx context.Context, dsn string) error {
	start := time.Now()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("migrate: --to: %w", err)
	}
	dbPath := filepath.Join(m.dir, "govmail.db")
	// query_only: this tool never writes the SQLite side.
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", dbPath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	src, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer src.Rollback()
	m.src = src
	if err := m.checkSourceTables(ctx); err != nil {
		return err
	}

	dst, err := postgres.Open(ctx, postgres.Options{DSN: dsn, Logger: slog.New(slog.DiscardHandler), MaxConns: 4})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	pool := dst.Pool()
	if err := m.checkEmpty(ctx, pool); err != nil {
		return err
	}
	fmt.Fprintf(m.out, "Sao chép / copying %s → PostgreSQL %s:%d/%s\n", dbPath, cfg.Host, cfg.Port, cfg.Database)

	m.counts = map[string][2]int64{}
	if m.indexed, err = m.indexedBlobs(ctx); err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, t := range migrateTables {
			if err := m.copyTable(ctx, tx, t); err != nil {
				return err
			}
		}
		return m.resetSequences(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("migrate: nothing copied: %w", err)
	}
	problems := m.verify(ctx, pool)
	if err := dst.Check(ctx); err != nil {
		problems = append(problems, err.Error())
	}
	m.report(time.Since(start), problems)
	if len(problems) > 0 {
		return fmt.Errorf("migrate: verification failed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkSourceTables refuses a store with tables this version does not know:
// copying without them would lose data silently.
func (m *migrator) checkSourceTables(ctx context.Context) error {
	rows, err := m.src.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, t := range migrateTables {
		known[t.name] = true
	}
	var unknown []string
	seen := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		seen[n] = true
		if !known[n] && !migrateIgnored(n) {
			unknown = append(unknown, n)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("migrate: the SQLite store has tables this version cannot copy: %s", strings.Join(unknown, ", "))
	}
	for _, t := range migrateTables {
		if !seen[t.name] {
			return fmt.Errorf("migrate: the SQLite store has no table %s: run this version's govmail serve on it once to bring its schema up to date", t.name)
		}
	}
	return nil
}

func (m *migrator) checkEmpty(ctx context.Context, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) error {
	for _, t := range migrateTables {
		var some bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+pgx.Identifier{t.name}.Sanitize()+`)`).Scan(&some); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if some {
			return fmt.Errorf("migrate: the target database is not empty (table %s has rows); migrate copies into an empty database only", t.name)
		}
	}
	return nil
}

func (m *migrator) indexedBlobs(ctx context.Context) (map[int64]bool, error) {
	// A contentless FTS5 table still lists its rowids: the bodies that were indexed.
	rows, err := m.src.QueryContext(ctx, `SELECT rowid FROM blob_text`)
	if err != nil {
		return nil, fmt.Errorf("migrate: search index: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("migrate: search index: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

type pgColumn struct{ name, typ string }

func (m *migrator) columns(ctx context.Context, tx pgx.Tx, t migrateTable) ([]pgColumn, []string, error) {
	rows, err := tx.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t.name)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate %s: %w", t.name, err)
	}
	var pg []pgColumn
	for rows.Next() {
		var c pgColumn
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("migrate %s: %w", t.name, err)
		}
		pg = append(pg, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("migrate %s: %w", t.name, err)
	}
	srows, err := m.src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, t.name)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate %s: %w", t.name, err)
	}
	defer srows.Close()
	sqliteCols := map[string]bool{}
	for srows.Next() {
		var n string
		if err := srows.Scan(&n); err != nil {
			return nil, nil, fmt.Errorf("migrate %s: %w", t.name, err)
		}
		sqliteCols[n] = true
	}
	if err := srows.Err(); err != nil {
		return nil, nil, fmt.Errorf("migrate %s: %w", t.name, err)
	}
	exprs := make([]string, len(pg))
	used := map[string]bool{}
	for i, c := range pg {
		e, ok := t.rename[c.name]
		if !ok {
			if !sqliteCols[c.name] {
				return nil, nil, fmt.Errorf("migrate %s: column %s missing on the SQLite side", t.name, c.name)
			}
			e = c.name
		}
		exprs[i] = `"` + e + `"`
		used[e] = true
	}
	for n := range sqliteCols {
		if !used[n] && !slices.Contains(t.drop, n) {
			return nil, nil, fmt.Errorf("migrate %s: SQLite column %s has no place in PostgreSQL", t.name, n)
		}
	}
	return pg, exprs, nil
}

func (m *migrator) copyTable(ctx context.Context, tx pgx.Tx, t migrateTable) error {
	pg, exprs, err := m.columns(ctx, tx, t)
	if err != nil {
		return err
	}
	col := map[string]int{}
	for i, c := range pg {
		col[c.name] = i
	}
	if t.name == "blobs" {
		exprs = append(exprs, `"in_file"`)
		for _, n := range []string{"id", "hash", "size", "data"} {
			if _, ok := col[n]; !ok {
				return fmt.Errorf("migrate blobs: no column %s", n)
			}
		}
	}
	rows, err := m.src.QueryContext(ctx, `SELECT `+strings.Join(exprs, ", ")+` FROM "`+t.name+`" ORDER BY `+t.order)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", t.name, err)
	}
	defer rows.Close()
	names := make([]string, len(pg))
	for i, c := range pg {
		names[i] = c.name
	}
	var pending [][]any
	pendingBytes := 0
	var copied int64
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, names, pgx.CopyFromRows(pending))
		if err != nil {
			return fmt.Errorf("migrate %s: copy: %w", t.name, err)
		}
		copied += n
		if t.name == "blobs" {
			if err := m.reindexBatch(ctx, tx, pending, col["id"], col["data"]); err != nil {
				return err
			}
		}
		pending, pendingBytes = pending[:0], 0
		return nil
	}
	blobHash := sha256.New()
	for rows.Next() {
		vals := make([]any, len(exprs))
		ptrs := make([]any, len(exprs))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("migrate %s: %w", t.name, err)
		}
		row := make([]any, len(pg))
		for i, c := range pg {
			if row[i], err = m.convert(vals[i], c.typ); err != nil {
				return fmt.Errorf("migrate %s.%s: %w", t.name, c.name, err)
			}
		}
		if t.name == "blobs" {
			id, _ := row[col["id"]].(int64)
			hash, _ := row[col["hash"]].([]byte)
			size, _ := row[col["size"]].(int64)
			inline, _ := row[col["data"]].([]byte)
			data, err := m.blobData(id, hash, size, inline, vals[len(pg)])
			if err != nil {
				return err
			}
			row[col["data"]] = data
			pendingBytes += len(data)
			blobHash.Write(blobDigestEntry(id, data))
			m.bodies++
			m.bytes += int64(len(data))
		}
		pending = append(pending, row)
		// Bodies are flushed by size too, so memory stays bounded.
		if len(pending) >= m.batch || pendingBytes >= 64<<20 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("migrate %s: %w", t.name, err)
	}
	if err := flush(); err != nil {
		return err
	}
	if t.name == "blobs" {
		m.digest[0] = blobHash.Sum(nil)
	}
	var want int64
	if err := m.src.QueryRowContext(ctx, `SELECT count(*) FROM "`+t.name+`"`).Scan(&want); err != nil {
		return fmt.Errorf("migrate %s: %w", t.name, err)
	}
	if want != copied {
		return fmt.Errorf("migrate %s: read %d rows of %d", t.name, copied, want)
	}
	m.counts[t.name] = [2]int64{want, 0}
	return nil
}

// blobData reads a body where SQLite kept it (inline, or in a file when
// inFile is set) and checks it against its hash and size.
func (m *migrator) blobData(id int64, hash []byte, size int64, inline []byte, inFile any) ([]byte, error) {
	data := inline
	if f, _ := inFile.(int64); f != 0 {
		h := hex.EncodeToString(hash)
		if len(h) < 2 {
			return nil, fmt.Errorf("migrate blobs: body %d has no hash", id)
		}
		b, err := os.ReadFile(filepath.Join(m.dir, "blobs", h[:2], h))
		if err != nil {
			return nil, fmt.Errorf("migrate blobs: body %d: %w", id, err)
		}
		data = b
	}
	if data == nil {
		data = []byte{}
	}
	sum := sha256.Sum256(data)
	if !bytes.Equal(sum[:], hash) {
		return nil, fmt.Errorf("migrate blobs: body %d does not match its sha256 (damaged in the SQLite store)", id)
	}
	if size != int64(len(data)) {
		return nil, fmt.Errorf("migrate blobs: body %d is %d bytes, recorded as %d", id, len(data), size)
	}
	return data, nil
}

// blobDigestEntry is one body's part of the bodies' digest: its id and its
// sha256, so that both sides' digests agree only if every body does.
func blobDigestEntry(id int64, data []byte) []byte {
	sum := sha256.Sum256(data)
	return blobDigestEntryHash(id, sum[:])
}

func blobDigestEntryHash(id int64, sum []byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(id))
	return append(b, sum...)
}

// reindexBatch rebuilds the search index of the bodies SQLite had indexed,
// from the bodies, the way delivery builds it.
func (m *migrator) reindexBatch(ctx context.Context, tx pgx.Tx, rows [][]any, idCol, dataCol int) error {
	for _, r := range rows {
		id, _ := r[idCol].(int64)
		if !m.indexed[id] {
			continue
		}
		data, _ := r[dataCol].([]byte)
		nm, _ := delivery.Prepare(data, time.Time{})
		if err := postgres.IndexBlob(ctx, tx, id, nm.SearchText); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		m.reindex++
	}
	return nil
}

// convert turns a SQLite value into what the PostgreSQL column takes.
func (m *migrator) convert(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
		return nil, fmt.Errorf("%v (%T) is not an integer", v, v)
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
		return nil, fmt.Errorf("%v (%T) is not a boolean", v, v)
	case "text":
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case []byte:
			s = string(x)
		case int64, float64:
			s = fmt.Sprint(x)
		default:
			return nil, fmt.Errorf("%v (%T) is not text", v, v)
		}
		// PostgreSQL refuses NUL and invalid UTF-8 in text, which SQLite kept
		// (bytes a remote peer sent, in a log row): replaced and counted.
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
			m.cleaned++
		}
		return s, nil
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return nil, fmt.Errorf("%v (%T) is not bytes", v, v)
	}
	return nil, fmt.Errorf("column type %s is not handled", typ)
}

// resetSequences moves every identity past the copied ids, so that the next
// row any node inserts gets a new one.
func (m *migrator) resetSequences(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'`)
	if err != nil {
		return fmt.Errorf("migrate: sequences: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("migrate: sequences: %w", err)
	}
	for _, t := range tables {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), (SELECT COALESCE(max(id), 0) + 1 FROM `+
			pgx.Identifier{t}.Sanitize()+`), false)`, pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("migrate %s: sequence: %w", t, err)
		}
		m.sequence++
	}
	return nil
}

// verify reads the copy back: row counts per table and every body's sha256
// computed by PostgreSQL.
func (m *migrator) verify(ctx context.Context, pool interface {
	QueryRow(context.Context, string, ...any) pgx.Row
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) []string {
	var problems []string
	for _, t := range migrateTables {
		var n int64
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{t.name}.Sanitize()).Scan(&n); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", t.name, err))
			continue
		}
		c := m.counts[t.name]
		c[1] = n
		m.counts[t.name] = c
		if c[0] != c[1] {
			problems = append(problems, fmt.Sprintf("%s: %d rows in SQLite, %d in PostgreSQL", t.name, c[0], c[1]))
		}
	}
	rows, err := pool.Query(ctx, `SELECT id, sha256(data) FROM blobs ORDER BY id`)
	if err != nil {
		return append(problems, fmt.Sprintf("bodies: %v", err))
	}
	defer rows.Close()
	hash := sha256.New()
	for rows.Next() {
		var id int64
		var sum []byte
		if err := rows.Scan(&id, &sum); err != nil {
			return append(problems, fmt.Sprintf("bodies: %v", err))
		}
		hash.Write(blobDigestEntryHash(id, sum))
	}
	if err := rows.Err(); err != nil {
		return append(problems, fmt.Sprintf("bodies: %v", err))
	}
	m.digest[1] = hash.Sum(nil)
	if !bytes.Equal(m.digest[0], m.digest[1]) {
		problems = append(problems, "bodies: sha256 digests differ")
	}
	return problems
}

func (m *migrator) report(took time.Duration, problems []string) {
	tw := tabwriter.NewWriter(m.out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "bảng / table\tSQLite\tPostgreSQL\t\t")
	var total int64
	for _, t := range migrateTables {
		c := m.counts[t.name]
		mark := "ok"
		if c[0] != c[1] {
			mark = "KHÁC / DIFFERS"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", t.name, c[0], c[1], mark)
		total += c[0]
	}
	tw.Flush()
	same := "giống nhau / identical"
	if !bytes.Equal(m.digest[0], m.digest[1]) {
		same = "KHÁC / DIFFER"
	}
	fmt.Fprintf(m.out, "thư / bodies: %d (%d bytes), sha256 of every body on both sides %s\n", m.bodies, m.bytes, same)
	fmt.Fprintf(m.out, "  digest SQLite     %x\n  digest PostgreSQL %x\n", m.digest[0], m.digest[1])
	fmt.Fprintf(m.out, "chỉ mục tìm kiếm / search index: %d bodies reindexed; %d sequences moved past the copied ids\n", m.reindex, m.sequence)
	if m.cleaned > 0 {
		fmt.Fprintf(m.out, "%d text values held NUL or invalid UTF-8, which PostgreSQL cannot store: replaced by U+FFFD\n", m.cleaned)
	}
	if len(problems) == 0 {
		fmt.Fprintf(m.out, "Xong / done: %d rows in %v; kiểm tra / integrity check ok.\n", total, took.Round(time.Millisecond))
		return
	}
	for _, p := range problems {
		fmt.Fprintln(m.out, "LỖI / ERROR:", p)
	}
}
