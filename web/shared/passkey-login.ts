import { api } from './api';
import { optionsOf, usePasskey, type PublicKeyCredentialRequestOptionsJSON } from './passkeys';

/** `POST /api/auth/passkeys/login/options` (API.md 8): without an email, any discoverable passkey. */
export function createPasskeyLoginOptions(email?: string) {
  return api<Record<string, unknown>>('POST', '/api/auth/passkeys/login/options', email ? { email } : {});
}

/** A passwordless sign-in with a passkey, in browser mode (the tokens come back as cookies). */
export async function passkeyLogin(email?: string, remember = false): Promise<unknown> {
  const body = await createPasskeyLoginOptions(email);
  const response = await usePasskey(optionsOf<PublicKeyCredentialRequestOptionsJSON>(body));
  return api('POST', '/api/auth/passkeys/login/verify', {
    challenge_id: body.challenge_id,
    response,
    remember,
    set_cookie: true,
  });
}
