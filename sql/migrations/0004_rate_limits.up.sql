-- The per-user request rate (README "Limits"), shared by every worker on every host. One row
-- per user holds the GCRA's theoretical arrival time: the moment the user's budget would be
-- whole again. UNLOGGED: a request writes no WAL for it, and after a crash the table is empty,
-- which only gives every user a full burst.
CREATE UNLOGGED TABLE rate_limits (
    user_id uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    tat     timestamptz NOT NULL
);
