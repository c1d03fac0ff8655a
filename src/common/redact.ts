/** Query parameters that carry secrets (mail links put tokens there); their values never reach a log. */
const SECRET_PARAMS = /([?&](?:token|key|refresh|refresh_token|access_token|code|password|session_id)=)[^&#]*/gi;

/**
 * Secrets that clients put in paths: assessment session ids (GET /api/sessions/:id) and IAM token keys
 * (/v1/tokens/{id or key}/).
 */
const SECRET_SEGMENTS = /\b(sess|tk)_[A-Za-z0-9_-]+/g;

export function redactUrl(url: string): string {
  // Most URLs hold neither: skip both expressions for them (this runs for every logged request).
  if (!url.includes('?') && !url.includes('sess_') && !url.includes('tk_')) return url;
  return url.replace(SECRET_PARAMS, '$1[REDACTED]').replace(SECRET_SEGMENTS, '$1_[REDACTED]');
}
