import { redactAttributes, withoutQuery } from './redact';

describe('redactAttributes', () => {
  it('drops attributes named after a secret, whatever their value', () => {
    const out = redactAttributes({
      'http.request.header.authorization': 'Bearer abc',
      'http.request.header.cookie': 'auth_token=abc',
      'user.email': 'ada@example.org',
      'app.password': 'hunter2',
      'db.user': 'postgres',
      'http.response.status_code': 401,
    });
    expect(out).toEqual({ 'db.user': 'postgres', 'http.response.status_code': 401 });
  });

  it('cuts the query string off URLs and puts the route template in place of the path', () => {
    const out = redactAttributes(
      {
        'url.full': 'http://id.example.org/api/users/6f1c2b0e-3a7d-4e8f-9b2a-1c3d5e7f9a0b?email=ada%40example.org',
        'url.path': '/api/users/6f1c2b0e-3a7d-4e8f-9b2a-1c3d5e7f9a0b',
        'url.query': 'email=ada%40example.org',
        'http.route': '/api/users/:id',
      },
      '/api/users/:id',
    );
    expect(out).toEqual({
      'url.full': 'http://id.example.org/api/users/:id',
      'url.path': '/api/users/:id',
      'http.route': '/api/users/:id',
    });
    expect(withoutQuery('/api/verification/verify?token=abc#x')).toBe('/api/verification/verify');
  });

  it('masks emails, JWTs and long opaque tokens inside any other text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const out = redactAttributes({
      'exception.message': `no user ada.lovelace@example.org with ${jwt} or ${'x'.repeat(43)}`,
      'db.query.text': 'SELECT * FROM users WHERE email = $1',
      list: ['bob@example.org', 3],
    });
    expect(out['exception.message']).toBe('no user [email] with [jwt] or [redacted]');
    expect(out['db.query.text']).toBe('SELECT * FROM users WHERE email = $1');
    expect(out.list).toEqual(['[email]', 3]);
  });
});
