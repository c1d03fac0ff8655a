/** Query parameters that carry secrets (mail links put tokens there); their values never reach a log. */
const SECRET_PARAMS = /([?&](?:token|key|refresh|refresh_token|access_token|code|password|session_id)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[REDACTED]');
}
