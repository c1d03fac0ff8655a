import { openIdClient } from './esm';

describe('openid-client loading', () => {
  it('is not loaded when the module graph is, and inside Jest its import fails with a clear reason', async () => {
    // The built service on Node 20.19+ imports it (the SSO e2e suites run dist/main.js for that reason);
    // Jest's CommonJS VM cannot, which is why no static import of it may reach AppModule.
    await expect(openIdClient()).rejects.toThrow(/dynamic import|ES Modules|experimental-vm-modules/i);
  });
});
