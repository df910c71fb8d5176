// The retry schedule a policy gives, computed as crates/domain/src/schedule.rs does: the
// delay before retry n is the curve's value capped at maxDelay, then spread by the jitter.

export const DEFAULT_POLICY = {
  retryPolicyType: "exponential", maxRetries: 5, retryDelay: 1000, multiplier: 2.0, maxDelay: 3600000,
  jitter: true, jitterRatio: 0.2, jitterMode: "ratio", retryOnTimeout: true, respectRetryAfter: true,
};

/** Rows {n, delay, low, high, capped, at, atLow, atHigh} for every retry the policy allows. */
export function retrySchedule(input) {
  const p = { ...DEFAULT_POLICY, ...(input || {}) };
  const retries = p.retryPolicyType === "none" ? 0 : Math.max(0, Math.min(50, Number(p.maxRetries) || 0));
  const base = Math.max(0, Number(p.retryDelay) || 0);
  const cap = Math.max(0, Number(p.maxDelay ?? DEFAULT_POLICY.maxDelay));
  const rows = [];
  let at = 0, atLow = 0, atHigh = 0;
  for (let n = 1; n <= retries; n++) {
    let raw;
    if (p.retryPolicyType === "exponential") raw = base * Math.pow(Number(p.multiplier) || 2, n - 1);
    else if (p.retryPolicyType === "linear") raw = base * n;
    else raw = base;
    const delay = Math.min(raw, cap);
    let low = delay, high = delay;
    if (p.jitter && delay > 0) {
      if (p.jitterMode === "full") { low = 0; high = delay; }
      else { const r = Number(p.jitterRatio ?? 0.2); low = delay * (1 - r); high = delay * (1 + r); }
    }
    at += delay; atLow += low; atHigh += high;
    rows.push({ n, delay, low, high, capped: raw > cap, at, atLow, atHigh });
  }
  return rows;
}
