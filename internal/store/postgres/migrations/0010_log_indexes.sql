-- R11.3, R14.5: operators search the transaction log by Message-ID and client
-- IP as well as by address and time; without these a search reads every row.
CREATE INDEX translog_message_id ON translog(message_id);
CREATE INDEX translog_client_ip ON translog(client_ip, time);
CREATE INDEX translog_status ON translog(status, time);
CREATE INDEX auth_log_ip ON auth_log(ip, time);
