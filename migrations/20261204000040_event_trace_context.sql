-- OpenTelemetry traces (issue 16): the W3C trace context of the span that published an event,
-- so that its delivery attempts (minutes or hours later, on any worker process) join the
-- publisher's trace. NULL unless the publishing process exports traces (--otlp-endpoint).
--
-- A column of its own rather than a key inside `data`: `data` is the tenant's payload, sent to
-- receivers and rendered by templates, and must stay exactly what was published. The value is
-- written by Ricochet (re-encoded from a parsed span context, 55 characters), never copied from
-- a request header, so it needs no check here. Adding a nullable column without a default
-- rewrites nothing: it is a change of the catalogue only, however many events are stored.
ALTER TABLE events ADD COLUMN traceparent text;
