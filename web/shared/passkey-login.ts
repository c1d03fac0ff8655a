import { call, client } from './api';
import { optionsOf, usePasskey, type PublicKeyCredentialRequestOptionsJSON } from './passkeys';

/** `POST /api/auth/passkeys/login/options` (API.md 8): without an email, any discoverable passkey. */
export function createPasskeyLoginOptions(email?: string) {
  return call(client.POST('/api/auth/passkeys/login/options', { body: email ? { email } : {} }));
}

/** A passwordless sign-in with a passkey, in browser mode (the tokens come back as cookies). */
export async function passkeyLogin(email?: string, remember = false): Promise<unknown> {
  const body = await createPasskeyLoginOptions(email);
  const response = await usePasskey(optionsOf<PublicKeyCredentialRequestOptionsJSON>(body));
  return call(
    client.POST('/api/auth/passkeys/login/verify', {
      body: { challenge_id: body.challenge_id ?? '', response: { ...response }, remember, set_cookie: true },
    }),
  );
}
