-- R11.6: the highest quota-warning threshold already announced (0, 80, 90, 100),
-- so that each crossing warns once and falling back below re-arms it.
ALTER TABLE accounts ADD COLUMN quota_warned integer NOT NULL DEFAULT 0;
