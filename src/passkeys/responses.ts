import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/** base64url without padding, as WebAuthn's JSON serialisation writes every binary field. */
const B64URL = /^[A-Za-z0-9_-]+$/;
/** WebAuthn caps credential ids at 1023 bytes: 1364 base64url characters. */
const MAX_CREDENTIAL_ID = 1364;
/** Far above any real attestation (certificate chains included), far below the body limit. */
const MAX_FIELD = 64 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const b64 = (v: unknown, max = MAX_FIELD): v is string => typeof v === 'string' && v.length <= max && B64URL.test(v);

const TRANSPORTS = ['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'];

/** The fields that both kinds of response share, rebuilt, ready to spread into either. */
type Head = Pick<
  RegistrationResponseJSON,
  'id' | 'rawId' | 'type' | 'clientExtensionResults' | 'authenticatorAttachment'
>;

function common(raw: unknown): { head: Head; response: Obj } | null {
  if (!isObj(raw) || !isObj(raw.response)) return null;
  if (!b64(raw.id, MAX_CREDENTIAL_ID) || raw.rawId !== raw.id || raw.type !== 'public-key') return null;
  if (!b64(raw.response.clientDataJSON)) return null;
  const attachment = raw.authenticatorAttachment;
  return {
    head: {
      id: raw.id,
      rawId: raw.id,
      type: 'public-key',
      clientExtensionResults: isObj(raw.clientExtensionResults) ? raw.clientExtensionResults : {},
      ...(attachment === 'platform' || attachment === 'cross-platform' ? { authenticatorAttachment: attachment } : {}),
    },
    response: raw.response,
  };
}

/**
 * A registration response rebuilt from what the browser sent, with only the fields WebAuthn defines and
 * each of the right type; null for anything else, so that no shape of junk reaches the library.
 */
export function registrationResponse(raw: unknown): RegistrationResponseJSON | null {
  const c = common(raw);
  if (!c || !b64(c.response.attestationObject)) return null;
  const transports = Array.isArray(c.response.transports)
    ? (c.response.transports as unknown[]).filter((t): t is string => typeof t === 'string' && TRANSPORTS.includes(t))
    : [];
  return {
    ...c.head,
    response: {
      clientDataJSON: c.response.clientDataJSON as string,
      attestationObject: c.response.attestationObject as string,
      transports: transports as RegistrationResponseJSON['response']['transports'],
    },
  };
}

/** An authentication (assertion) response, rebuilt as registrationResponse does. */
export function authenticationResponse(raw: unknown): AuthenticationResponseJSON | null {
  const c = common(raw);
  if (!c || !b64(c.response.authenticatorData) || !b64(c.response.signature)) return null;
  const userHandle = c.response.userHandle;
  if (userHandle !== undefined && userHandle !== null && userHandle !== '' && !b64(userHandle, 128)) return null;
  return {
    ...c.head,
    response: {
      clientDataJSON: c.response.clientDataJSON as string,
      authenticatorData: c.response.authenticatorData as string,
      signature: c.response.signature as string,
      ...(typeof userHandle === 'string' && userHandle ? { userHandle } : {}),
    },
  };
}

/** The challenge that the browser put in clientDataJSON (what it claims to answer), or null. */
export function echoedChallenge(response: { response: { clientDataJSON: string } }): string | null {
  try {
    const data = JSON.parse(Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8')) as unknown;
    return isObj(data) && b64(data.challenge, 512) ? data.challenge : null;
  } catch {
    return null;
  }
}

/** The WebAuthn user handle of a user: the bytes of its uuid, which names nobody outside this service. */
export const userHandleOf = (userId: string): string => Buffer.from(userId, 'utf8').toString('base64url');

/** How the passkey routes document a refused ceremony (registration and sign-in alike). */
export const REFUSED_EXAMPLE = {
  error: { code: 'INVALID_CREDENTIALS', message: 'This passkey could not be verified' },
};
export const REFUSALS =
  'Wrong origin, wrong RP id, a used, expired or unknown challenge (or one issued for another purpose or ' +
  'user), an unknown or removed credential, a bad signature, a signature counter that did not increase, ' +
  'or a response that is not a WebAuthn credential inside: 401 INVALID_CREDENTIALS, nothing stored, the ' +
  'challenge used up. A body whose fields are of the wrong type: 400 VALIDATION_ERROR.';
