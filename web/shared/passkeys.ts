import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  WebAuthnError,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/browser';

/** Thrown when the browser or the authenticator did not produce a passkey response; its message is words. */
export class PasskeyCeremonyError extends Error {}

export const passkeysSupported = () => browserSupportsWebAuthn();

/**
 * The WebAuthn options in an answer of section 8: the options themselves, perhaps beside a
 * `challenge_id` (sign-in), or under `options` / `publicKey`.
 */
export function optionsOf<T>(body: unknown): T {
  const b = body as Record<string, unknown>;
  const inner = (b.options ?? b.publicKey) as T | undefined;
  if (inner) return inner;
  const { challenge_id: _ignored, ...rest } = b;
  return rest as T;
}

function words(e: unknown, registering: boolean): PasskeyCeremonyError {
  if (e instanceof WebAuthnError) {
    switch (e.code) {
      case 'ERROR_CEREMONY_ABORTED':
        return new PasskeyCeremonyError('The passkey request was stopped.');
      case 'ERROR_INVALID_DOMAIN':
      case 'ERROR_INVALID_RP_ID':
        return new PasskeyCeremonyError(
          'Passkeys for this service cannot be used at this address. Open the page at the service’s usual address.',
        );
      case 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED':
        return new PasskeyCeremonyError('This device already holds a passkey for your account.');
      default:
        break;
    }
  }
  const name = (e as { name?: string })?.name;
  if (name === 'NotAllowedError' || (e as { cause?: { name?: string } })?.cause?.name === 'NotAllowedError') {
    return new PasskeyCeremonyError(
      registering
        ? 'No passkey was created: the request was cancelled or timed out.'
        : 'No passkey was used: the request was cancelled or timed out, or this device holds no passkey for this service.',
    );
  }
  return new PasskeyCeremonyError(
    registering ? 'Your device could not create a passkey.' : 'Your device could not use a passkey.',
  );
}

export async function createPasskey(
  optionsJSON: PublicKeyCredentialCreationOptionsJSON,
): Promise<RegistrationResponseJSON> {
  try {
    return await startRegistration({ optionsJSON });
  } catch (e) {
    throw words(e, true);
  }
}

export async function usePasskey(
  optionsJSON: PublicKeyCredentialRequestOptionsJSON,
): Promise<AuthenticationResponseJSON> {
  try {
    return await startAuthentication({ optionsJSON });
  } catch (e) {
    throw words(e, false);
  }
}

export type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON };
