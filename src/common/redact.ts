/** Query parameters that carry secrets (mail links put tokens there); their values never reach a log. */
const SECRET_PARAMS = /([?&](?:token|key|refresh|refresh_token|access_token|code|password|session_id)=)[^&#]*/gi;

/** Assessment session ids are bearer secrets, and GET /api/sessions/:id carries one in the path. */
const SECRET_SEGMENTS = /\bsess_[A-Za-z0-9_-]+/g;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[REDACTED]').replace(SECRET_SEGMENTS, 'sess_[REDACTED]');
}
