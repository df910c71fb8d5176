-- A rate Ricochet learns from the receiver (issue 12: "the receiver says slow down", and the
-- slow start after an outage).
--
-- learned_rate: requests per second Ricochet allows itself toward the integration, on top of
--   any configured settings.rateLimit (the lower of the two is in force); NULL: none learned.
--   It is set when a circuit closes (a slow start at maxConcurrency requests per second, so a
--   receiver coming back from an outage is not hit by the whole backlog at once), and when
--   429s without Retry-After repeat (to half the rate the receiver was getting). It grows by
--   8% each second in which the receiver kept up while the rate was what held deliveries back
--   (8% keeps the step past a receiver's own limit small), and is dropped once it passes the
--   configured rate limit. Enabling the integration again forgets it.
-- learned_at: when learned_rate last changed (at most once a second).
-- window_at, window_n, last_window_n: attempts recorded in the current one-second window
--   (from window_at) and in the one before it: the rate the receiver is getting.
ALTER TABLE delivery_lanes
    ADD COLUMN learned_rate double precision CHECK (learned_rate IS NULL OR learned_rate > 0),
    ADD COLUMN learned_at timestamptz,
    ADD COLUMN window_at timestamptz,
    ADD COLUMN window_n integer NOT NULL DEFAULT 0,
    ADD COLUMN last_window_n integer NOT NULL DEFAULT 0;
