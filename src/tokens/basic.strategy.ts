import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { BasicStrategy as PassportBasic } from 'passport-http';
import { AuthUser } from '../auth/auth-user';
import { KeyTokensService } from './key-tokens.service';

/**
 * `Authorization: Basic base64(key:token)`. passport-http parses the header; anything malformed (no
 * colon, bad Base64, empty parts) fails there and becomes a 401 with a Basic challenge.
 */
@Injectable()
export class BasicStrategy extends PassportStrategy(PassportBasic, 'basic') {
  constructor(private readonly pairs: KeyTokensService) {
    super({ realm: 'identity' });
  }

  validate(key: string, token: string): Promise<AuthUser> {
    return this.pairs.authenticate(key, token);
  }
}
