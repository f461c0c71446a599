-- DMARC aggregate and TLS reports (RFC 7489 7.2, RFC 8460): the counted
-- outcomes our daily reports are built from, which (kind, day, domain) reports
-- were sent, and the reports other operators sent us.
CREATE TABLE auth_event_counts (
  kind TEXT NOT NULL,
  day TEXT NOT NULL,
  domain TEXT NOT NULL,
  key TEXT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (kind, day, domain, key)
);
CREATE TABLE auth_reports_sent (
  kind TEXT NOT NULL,
  day TEXT NOT NULL,
  domain TEXT NOT NULL,
  PRIMARY KEY (kind, day, domain)
);
CREATE TABLE received_reports (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  org TEXT NOT NULL,
  report_id TEXT NOT NULL,
  domain TEXT NOT NULL,
  begin_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  received_at BIGINT NOT NULL,
  total BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (kind, org, report_id)
);
CREATE INDEX received_reports_end ON received_reports (end_at);
