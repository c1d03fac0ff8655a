import { isoCBOR } from '@simplewebauthn/server/helpers';
import { createHash, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A software authenticator: what a browser and a platform authenticator do together for a WebAuthn
 * ceremony, built from the specification (WebAuthn Level 3, sections 5 and 6) so that the service is tested
 * against bytes it did not make itself. P-256 keys from node:crypto, authenticator data with its flags and
 * counter, attestation `none` in CBOR, clientDataJSON, and ES256 signatures in DER. Each option lets a test
 * lie the way an attacker or a broken authenticator would.
 */

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();
const b64u = (data: Buffer | Uint8Array): string => Buffer.from(data).toString('base64url');

export interface Credential {
  id: string;
  privateKey: KeyObject;
  /** The COSE_Key of the public key. */
  cose: Buffer;
  counter: number;
  rpId: string;
  userHandle: string | null;
}

export interface CeremonyOptions {
  /** The origin the "browser" puts in clientDataJSON (default: the authenticator's). */
  origin?: string;
  /** The RP id whose hash goes in authenticator data (default: the options' rpId). */
  rpId?: string;
  /** The UV flag: the user was verified (default: the authenticator's setting). */
  userVerified?: boolean;
  /** The challenge to echo instead of the one in the options. */
  challenge?: string;
  /** clientDataJSON's type instead of webauthn.create / webauthn.get. */
  type?: string;
  /** create(): present this existing key pair again as if it were new (a credential registered twice). */
  reuse?: Credential;
}

export interface AssertionOptions extends CeremonyOptions {
  /** Sign with this credential (default: the first one the options allow, or any of this RP for discoverable). */
  credentialId?: string;
  /** The signature counter to report instead of the next one. */
  counter?: number;
  /** Flip a bit of the signature. */
  tamperSignature?: boolean;
  /** Leave out the user handle (a non-discoverable credential answering an allow list). */
  omitUserHandle?: boolean;
}

export interface CreationOptionsJSON {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: { id: string }[];
  authenticatorSelection?: { residentKey?: string; userVerification?: string };
  pubKeyCredParams: { alg: number; type: string }[];
}

export interface RequestOptionsJSON {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string }[];
  userVerification?: string;
}

/** COSE_Key (RFC 9053) of a P-256 public key: kty EC2, alg ES256, crv P-256, x, y. */
function coseOf(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const key = new Map<number, number | Uint8Array>([
    [1, 2],
    [3, -7],
    [-1, 1],
    [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
    [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
  ]);
  return Buffer.from(isoCBOR.encode(key));
}

export class SoftAuthenticator {
  readonly credentials: Credential[] = [];
  /** The authenticator model; zeros for one that does not say, as with attestation none. */
  readonly aaguid = Buffer.alloc(16);

  constructor(
    readonly origin: string,
    private readonly settings: { userVerified?: boolean; backedUp?: boolean } = {},
  ) {}

  /** navigator.credentials.create(): a new key pair for the RP, and the registration response JSON. */
  create(options: CreationOptionsJSON, lie: CeremonyOptions = {}) {
    const rpId = lie.rpId ?? options.rp.id!;
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
    if (this.credentials.some((c) => excluded.has(c.id) && c.rpId === rpId)) {
      throw new Error('InvalidStateError: this authenticator already holds an excluded credential');
    }
    if (!options.pubKeyCredParams.some((p) => p.alg === -7)) throw new Error('NotSupportedError: no ES256');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const idBytes = lie.reuse ? Buffer.from(lie.reuse.id, 'base64url') : randomBytes(32);
    const credential: Credential = lie.reuse ?? {
      id: b64u(idBytes),
      privateKey,
      cose: coseOf(publicKey),
      counter: 0,
      rpId,
      userHandle: options.user.id,
    };
    const clientDataJSON = this.clientData(lie.type ?? 'webauthn.create', lie.challenge ?? options.challenge, lie);
    const attested = Buffer.concat([
      this.aaguid,
      Buffer.from([idBytes.length >> 8, idBytes.length & 0xff]),
      idBytes,
      credential.cose,
    ]);
    const authData = Buffer.concat([this.authDataHead(rpId, FLAG_AT, credential.counter, lie), attested]);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    if (!lie.reuse) this.credentials.push(credential);
    return {
      credential,
      response: {
        id: credential.id,
        rawId: credential.id,
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64u(clientDataJSON),
          attestationObject: b64u(attestationObject),
          transports: ['internal', 'hybrid'],
        },
      },
    };
  }

  /** navigator.credentials.get(): an assertion over authData || sha256(clientDataJSON). */
  get(options: RequestOptionsJSON, lie: AssertionOptions = {}) {
    const rpId = options.rpId!;
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    const credential = lie.credentialId
      ? this.credentials.find((c) => c.id === lie.credentialId)
      : allowed.length
        ? this.credentials.find((c) => allowed.includes(c.id))
        : this.credentials.find((c) => c.rpId === rpId);
    if (!credential) throw new Error('NotAllowedError: no credential of this authenticator is allowed');
    const counter = lie.counter ?? credential.counter + 1;
    if (lie.counter === undefined) credential.counter = counter;
    const clientDataJSON = this.clientData(lie.type ?? 'webauthn.get', lie.challenge ?? options.challenge, lie);
    const authData = this.authDataHead(lie.rpId ?? rpId, 0, counter, lie);
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    if (lie.tamperSignature) signature[signature.length - 1] ^= 0x01;
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(lie.omitUserHandle || !credential.userHandle ? {} : { userHandle: credential.userHandle }),
      },
    };
  }

  private clientData(type: string, challenge: string, lie: CeremonyOptions): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: lie.origin ?? this.origin, crossOrigin: false }));
  }

  /** rpIdHash, flags (UP always; UV, BE, BS as set), the signature counter big-endian. */
  private authDataHead(rpId: string, extraFlags: number, counter: number, lie: CeremonyOptions): Buffer {
    const uv = lie.userVerified ?? this.settings.userVerified ?? true;
    const backedUp = this.settings.backedUp ?? true;
    const flags = FLAG_UP | extraFlags | (uv ? FLAG_UV : 0) | (backedUp ? FLAG_BE | FLAG_BS : 0);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter >>> 0);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }
}
