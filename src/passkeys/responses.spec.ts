import { authenticationResponse, echoedChallenge, registrationResponse, userHandleOf } from './responses';

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const clientData = b64(JSON.stringify({ type: 'webauthn.get', challenge: 'abc_-123', origin: 'https://x.test' }));

const assertion = {
  id: 'AAECAw',
  rawId: 'AAECAw',
  type: 'public-key',
  response: { clientDataJSON: clientData, authenticatorData: 'YWJj', signature: 'c2ln', userHandle: 'dXNlcg' },
  clientExtensionResults: {},
};

const attestation = {
  id: 'AAECAw',
  rawId: 'AAECAw',
  type: 'public-key',
  authenticatorAttachment: 'platform',
  response: {
    clientDataJSON: clientData,
    attestationObject: 'b2Jq',
    transports: ['internal', 'usb', 'carrier-pigeon', 7],
  },
  clientExtensionResults: { credProps: { rk: true } },
};

describe('passkey responses', () => {
  it('rebuilds an assertion with only the fields WebAuthn defines', () => {
    expect(
      authenticationResponse({ ...assertion, extra: 'dropped', response: { ...assertion.response, x: 1 } }),
    ).toEqual(assertion);
  });

  it('rebuilds an attestation, keeping only known transports and a known attachment', () => {
    expect(registrationResponse(attestation)).toEqual({
      ...attestation,
      response: { ...attestation.response, transports: ['internal', 'usb'] },
    });
    expect(registrationResponse({ ...attestation, authenticatorAttachment: 'pocket' })).not.toHaveProperty(
      'authenticatorAttachment',
    );
  });

  it('gives an empty extension result when the browser sent none, and drops an empty user handle', () => {
    const bare = {
      ...assertion,
      clientExtensionResults: undefined,
      response: { ...assertion.response, userHandle: '' },
    };
    expect(authenticationResponse(bare)).toMatchObject({ clientExtensionResults: {} });
    expect(authenticationResponse(bare)!.response).not.toHaveProperty('userHandle');
  });

  it.each([
    ['not an object', 'x'],
    ['an array', [assertion]],
    ['no response', { ...assertion, response: undefined }],
    ['a numeric id', { ...assertion, id: 5 }],
    ['rawId unlike id', { ...assertion, rawId: 'BBBB' }],
    ['another type', { ...assertion, type: 'password' }],
    ['padding in base64url', { ...assertion, response: { ...assertion.response, signature: 'c2ln==' } }],
    ['garbage in base64url', { ...assertion, response: { ...assertion.response, signature: '***' } }],
    ['no authenticator data', { ...assertion, response: { ...assertion.response, authenticatorData: undefined } }],
    ['a numeric user handle', { ...assertion, response: { ...assertion.response, userHandle: 5 } }],
    ['an id over 1023 bytes', { ...assertion, id: 'A'.repeat(1365), rawId: 'A'.repeat(1365) }],
  ])('refuses an assertion with %s', (_, raw) => expect(authenticationResponse(raw)).toBeNull());

  it('refuses an attestation without its attestation object, and an assertion offered as one', () => {
    expect(registrationResponse({ ...attestation, response: { clientDataJSON: clientData } })).toBeNull();
    expect(registrationResponse(assertion)).toBeNull();
    expect(authenticationResponse(attestation)).toBeNull();
  });

  it('reads the challenge the browser echoed, and nothing from clientDataJSON that is not JSON or has none', () => {
    expect(echoedChallenge({ response: { clientDataJSON: clientData } })).toBe('abc_-123');
    expect(echoedChallenge({ response: { clientDataJSON: b64('{') } })).toBeNull();
    expect(echoedChallenge({ response: { clientDataJSON: b64('{"challenge":5}') } })).toBeNull();
    expect(echoedChallenge({ response: { clientDataJSON: b64('[1]') } })).toBeNull();
  });

  it('names a user by the bytes of its id', () => {
    expect(Buffer.from(userHandleOf('0b6f-id'), 'base64url').toString()).toBe('0b6f-id');
  });
});
