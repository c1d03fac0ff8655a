// The migrations, oldest first. `npm run migration:generate -- Name` appends to this list.
import { Foundation1763900000000 } from './1763900000000-Foundation';
import { PortalAuth1763900100000 } from './1763900100000-PortalAuth';
import { PatientPortal1763900200000 } from './1763900200000-PatientPortal';
import { Clinical1763900300000 } from './1763900300000-Clinical';
import { KeyToken1763900400000 } from './1763900400000-KeyToken';
import { Iam1763900500000 } from './1763900500000-Iam';
import { NormalizedEmails1763900600000 } from './1763900600000-NormalizedEmails';
import { Mfa1763900700000 } from './1763900700000-Mfa';
import { SigningKeys1763900800000 } from './1763900800000-SigningKeys';
import { Passkeys1763900900000 } from './1763900900000-Passkeys';
import { Sso1763901000000 } from './1763901000000-Sso';
import { Trust1763901100000 } from './1763901100000-Trust';
import { House1763901200000 } from './1763901200000-House';

export const MIGRATIONS = [
  Foundation1763900000000,
  PortalAuth1763900100000,
  PatientPortal1763900200000,
  Clinical1763900300000,
  KeyToken1763900400000,
  Iam1763900500000,
  NormalizedEmails1763900600000,
  Mfa1763900700000,
  SigningKeys1763900800000,
  Passkeys1763900900000,
  Sso1763901000000,
  Trust1763901100000,
  House1763901200000,
];
