/**
 * The admin console (API.md 9): users (search, role, enable and disable, MFA reset, sessions,
 * subscription), the audit trail, the client applications of the key:token surface and the signing
 * keys. Every action is one documented request (shared/api.ts); the API's own guards decide who may
 * do it, so a person who is not an admin is only told that the page is not for them.
 */
import { call, client, describe, roleValues, subscriptionStatusValues, type Query, type Schema } from '../shared/api';
import { action, confirmedAction, form, guarded, selectField } from '../shared/controls';
import {
  button,
  field,
  formatDate,
  h,
  messageArea,
  replace,
  section,
  sectionNav,
  setTitle,
  uid,
  type Messages,
} from '../shared/dom';
import { pageShell } from '../shared/shell';
import { oauthClientsSection } from './oauth-clients';

// The answers' types and the role list come from the generated client (clients/typescript), which is
// generated from the service's own OpenAPI document: nothing here copies a shape or a list.
type User = Schema<'UserResponse'>;
type Page = Pick<Schema<'UserPageResponse'>, 'total' | 'page' | 'limit'>;
type AuditEvent = Schema<'AuditEventResponse'>;

const ROLES = roleValues;
const SUBSCRIPTIONS: [string, string][] = subscriptionStatusValues.map((s) => [s, s[0].toUpperCase() + s.slice(1)]);
const PAGE_SIZE = 10;

const { app, signOut, fail, start } = pageShell<User>({
  heading: 'Admin console',
  signInTitle: 'Sign in to the admin console',
  render: renderConsole,
  refusal: (e) =>
    e.code === 'MFA_ENROLMENT_REQUIRED'
      ? [
          h('p', { class: 'error', role: 'alert' }, describe(e)),
          h('p', null, h('a', { href: '/account' }, 'Set up a second factor on your account page')),
        ]
      : undefined,
});

const LAST_ADMIN =
  'The last active admin cannot be demoted or disabled: nobody would be left to manage the service. ' +
  'Make another user an admin first.';

function renderConsole(me: User): void {
  const header = h(
    'header',
    { class: 'top' },
    h('h1', null, 'Admin console'),
    h('p', null, 'Signed in as ', h('strong', null, me.email)),
    h(
      'div',
      { class: 'actions' },
      action('Sign out', () => signOut()),
    ),
  );
  if (me.role !== 'admin') {
    setTitle('Not for you');
    replace(
      app,
      header,
      h(
        'p',
        { class: 'error', role: 'alert' },
        `This console is for administrators, and your role is ${me.role}. Nothing here is shown to you.`,
      ),
      h('p', null, h('a', { href: '/account' }, 'Go to your account page')),
    );
    return;
  }
  setTitle('Admin console');
  const details = h('div');
  const audit = auditSection();
  const users = usersSection(details, audit.showUser, me);
  const panels = [users, audit.el, clientsSection(), oauthClientsSection(fail), ssoSection(), signingKeysSection()];
  replace(app, header, sectionNav(panels, 'Panels'), users, details, panels.slice(1));
}

/** Emails of the users this page has seen, so that the audit trail can name people rather than ids. */
const emails = new Map<string, string>();
const remember = (u: User) => emails.set(u.id, u.email);

function pager(what: string, page: Page, go: (page: number) => void): HTMLElement {
  const pages = Math.max(1, Math.ceil(page.total / page.limit));
  const previous = button('Previous page', () => go(page.page - 1));
  const next = button('Next page', () => go(page.page + 1));
  previous.disabled = page.page <= 1;
  next.disabled = page.page >= pages;
  return h(
    'div',
    { class: 'actions pager' },
    previous,
    h('span', null, `Page ${page.page} of ${pages} (${page.total} ${what})`),
    next,
  );
}

function usersSection(details: HTMLElement, showAudit: (userId: string) => void, me: User): HTMLElement {
  const messages = messageArea();
  const email = field('Email address contains', { type: 'search', autocomplete: 'off' });
  const role = selectField('Role', [['', 'Any role'], ...ROLES.map((r): [string, string] => [r, r])]);
  const results = h('div');
  let page = 1;
  let loads = 0;

  const load = async () => {
    messages.clear();
    const query: Query<'admin.users.list'> = { page, limit: PAGE_SIZE };
    if (email.input.value.trim()) query.email = email.input.value.trim();
    if (role.select.value) query.role = role.select.value as User['role'];
    const mine = ++loads;
    try {
      const found = await call(client.GET('/api/users', { params: { query } }));
      // An answer to an older search (the first list, a page turned meanwhile) must not replace a newer one.
      if (mine !== loads) return;
      found.items.forEach(remember);
      if (!found.items.length) {
        replace(results, h('p', null, 'No user matches.'));
        return;
      }
      replace(
        results,
        h(
          'table',
          null,
          h('caption', null, 'Users, oldest first'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Email address', 'Role', 'Account', ''].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          h(
            'tbody',
            null,
            found.items.map((u) =>
              h(
                'tr',
                null,
                h('td', null, u.email),
                h('td', null, u.role),
                h('td', null, u.is_active ? 'enabled' : 'disabled'),
                h(
                  'td',
                  null,
                  button(`Open ${u.email}`, () => void openUser(details, u.id, showAudit, () => void load(), me)),
                ),
              ),
            ),
          ),
        ),
        pager('users', found, (p) => {
          page = p;
          void load();
        }),
      );
    } catch (e) {
      fail(messages, e, {}, { email: 'Email address contains', role: 'Role' });
    }
  };
  const search = form(
    async () => {
      page = 1;
      await load();
    },
    h('div', { class: 'row' }, email.row, role.row),
    h('div', { class: 'actions' }, button('Search', undefined, 'primary')),
  );
  // Choosing a role is a search of its own: the list follows at once.
  role.select.addEventListener('change', () => {
    page = 1;
    void load();
  });
  void load();
  const el = section('Users', search, messages.el, results);
  el.id = 'users';
  return el;
}

const METHODS: Record<string, string> = {
  password: 'password',
  magic_link: 'email link',
  'magic-link': 'email link',
  mfa: 'two factors',
  passkey: 'passkey',
  sso: 'institution',
};

async function openUser(
  into: HTMLElement,
  id: string,
  showAudit: (userId: string) => void,
  changed: () => void,
  me: User,
): Promise<void> {
  const messages = messageArea();
  let user: Schema<'AdminUserResponse'>;
  try {
    user = await call(client.GET('/api/users/{id}', { params: { path: { id } } }));
  } catch (e) {
    replace(into, section('User', messages.el));
    fail(messages, e, { NOT_FOUND: 'That user does not exist any more.' });
    return;
  }
  remember(user);
  const byId = { params: { path: { id: user.id } } };
  const reopen = async (said: string) => {
    changed();
    await openUser(into, user.id, showAudit, changed, me);
    const again = into.querySelector('.messages');
    if (again) replace(again, h('p', { class: 'info', role: 'status' }, said));
  };
  const name = [user.title, user.first_name, user.last_name].filter(Boolean).join(' ');
  const facts = h(
    'dl',
    { class: 'facts' },
    [
      ['Email address', user.email],
      ['Name', name || 'not given'],
      ['Role', user.role],
      ['Account', user.is_active ? 'enabled' : 'disabled'],
      ['Email address confirmed', user.email_verified ? 'yes' : 'no'],
      [
        'Two-factor authentication',
        user.mfa.enabled
          ? `on (${user.mfa.factors.map((f) => f.type).join(', ')}; ${user.mfa.recovery_codes_left} recovery codes left)`
          : 'off',
      ],
      [
        'Subscription',
        `${user.subscription_status}${user.subscription_ends_at ? ` until ${formatDate(user.subscription_ends_at)}` : ''}`,
      ],
      ['Account created', formatDate(user.created_at)],
    ].flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );

  const role = selectField(
    'New role',
    ROLES.map((r) => [r, r]),
    user.role,
  );
  const roleForm = h(
    'div',
    { class: 'stack' },
    role.row,
    h(
      'div',
      { class: 'actions' },
      confirmedAction(
        'Change role',
        `Change the role of ${user.email}? Every session of theirs ends.`,
        'Yes, change the role',
        guarded(
          messages,
          fail,
          async () => {
            const after = await call(
              client.PATCH('/api/users/{id}/role', { ...byId, body: { role: role.select.value as User['role'] } }),
            );
            await reopen(
              after.role === user.role
                ? `The role stays ${after.role}.`
                : `The role is now ${after.role}. Every session of ${after.email} has ended: they sign in again to get it.`,
            );
          },
          { CONFLICT: LAST_ADMIN },
          { role: 'New role' },
        ),
        'primary',
      ),
    ),
  );

  const activeRun = guarded(
    messages,
    fail,
    async () => {
      const after = await call(client.PATCH('/api/users/{id}', { ...byId, body: { is_active: !user.is_active } }));
      await reopen(
        after.is_active
          ? `${after.email} is enabled and can sign in again.`
          : `${after.email} is disabled: every session and credential has ended.`,
      );
    },
    { CONFLICT: LAST_ADMIN },
  );
  // Disabling ends every session of the user: asked first. Enabling ends nothing.
  const activeButton = user.is_active
    ? confirmedAction(
        'Disable account',
        `Disable ${user.email}? Every session and credential of theirs ends.`,
        'Yes, disable the account',
        activeRun,
      )
    : action('Enable account', activeRun, 'primary');

  const mfaButton = user.mfa.enabled
    ? confirmedAction(
        'Reset two-factor authentication',
        `Reset the two-factor authentication of ${user.email}? Every factor, recovery code and session of theirs ends.`,
        'Yes, reset it',
        guarded(messages, fail, async () => {
          await call(client.DELETE('/api/users/{id}/mfa', byId));
          await reopen(
            `Two-factor authentication of ${user.email} is reset: every factor and recovery code is gone, and so are the sessions.`,
          );
        }),
      )
    : null;

  const sessions = h('div');
  const loadSessions = async () => {
    try {
      const live = await call(client.GET('/api/users/{id}/sessions', byId));
      // The admin's own account: the session this console runs on is marked (GET /api/auth/sessions says which).
      const mine =
        user.id === me.id ? (await call(client.GET('/api/auth/sessions'))).find((s) => s.current)?.id : undefined;
      replace(
        sessions,
        live.length
          ? h(
              'ul',
              { class: 'items' },
              live.map((s) =>
                h(
                  'li',
                  { class: s.id === mine ? 'item current' : 'item' },
                  s.id === mine ? h('p', null, h('strong', null, 'This browser (your session in this console)')) : null,
                  h(
                    'p',
                    null,
                    `Signed in ${formatDate(s.created_at)} with ${METHODS[s.method] ?? s.method}`,
                    s.ip ? ` from ${s.ip}` : '',
                    `; ends ${formatDate(s.expires_at)}.`,
                  ),
                  s.user_agent ? h('p', { class: 'hint' }, s.user_agent) : null,
                  h(
                    'div',
                    { class: 'actions' },
                    confirmedAction(
                      'End session',
                      s.id === mine
                        ? 'End your own session in this console? You will be signed out.'
                        : `End this session of ${user.email}?`,
                      'Yes, end the session',
                      guarded(
                        messages,
                        fail,
                        async () => {
                          await call(
                            client.DELETE('/api/users/{id}/sessions/{sessionId}', {
                              params: { path: { id: user.id, sessionId: s.id } },
                            }),
                          );
                          messages.info('That session has ended: it can no longer be used.');
                          await loadSessions();
                        },
                        { NOT_FOUND: 'That session had already ended.' },
                      ),
                    ),
                  ),
                ),
              ),
            )
          : h('p', null, 'No live sessions.'),
        live.length
          ? h(
              'div',
              { class: 'actions' },
              confirmedAction(
                'End all their sessions',
                user.id === me.id
                  ? 'End every session of your account, this one too? You will be signed out.'
                  : `End every session of ${user.email}?`,
                'Yes, end them all',
                guarded(messages, fail, async () => {
                  await call(client.DELETE('/api/users/{id}/sessions', byId));
                  messages.info(`Every session of ${user.email} has ended.`);
                  await loadSessions();
                }),
              ),
            )
          : null,
      );
    } catch (e) {
      fail(messages, e);
    }
  };

  const links = h('div');
  const loadLinks = async () => {
    try {
      const found = await call(client.GET('/api/users/{id}/sso-links', byId));
      replace(
        links,
        found.length
          ? h(
              'ul',
              { class: 'items' },
              found.map((l) =>
                h(
                  'li',
                  { class: 'item' },
                  h('p', null, `${l.provider_name} (${l.provider_type === 'saml' ? 'SAML' : 'OpenID Connect'})`),
                  h(
                    'p',
                    { class: 'hint' },
                    `Known there as ${l.subject}; linked ${formatDate(l.created_at)}`,
                    l.last_login_at ? `; last signed in ${formatDate(l.last_login_at)}.` : '.',
                  ),
                ),
              ),
            )
          : h('p', null, 'No institution signs this user in.'),
      );
    } catch (e) {
      fail(messages, e);
    }
  };

  const status = selectField('Subscription status', SUBSCRIPTIONS, user.subscription_status);
  const endsOn = field('Ends on (empty: open-ended)', {
    type: 'date',
    value: user.subscription_ends_at ? user.subscription_ends_at.slice(0, 10) : '',
  });
  const subscriptionForm = form(
    guarded(
      messages,
      fail,
      async () => {
        const day = endsOn.input.value;
        const after = await call(
          client.PATCH('/api/users/{id}/subscription', {
            ...byId,
            body: {
              status: status.select.value as Schema<'SubscriptionDto'>['status'],
              ends_at: day ? new Date(`${day}T23:59:59Z`).toISOString() : null,
            },
          }),
        );
        await reopen(`The subscription is now ${after.subscription_status}.`);
      },
      {},
      { status: 'Subscription status', ends_at: 'Ends on' },
    ),
    h('div', { class: 'row' }, status.row, endsOn.row),
    h('div', { class: 'actions' }, button('Set subscription')),
  );

  replace(
    into,
    section(
      `User ${user.email}`,
      messages.el,
      facts,
      h('h3', null, 'Role'),
      h('p', { class: 'hint' }, 'A new role ends every session of the user: their tokens carry the old role.'),
      roleForm,
      h('h3', null, 'Account and second factor'),
      h(
        'div',
        { class: 'actions' },
        activeButton,
        mfaButton,
        button('Show their audit trail', () => showAudit(user.id)),
      ),
      h('h3', null, 'Live sessions'),
      sessions,
      h('h3', null, 'Institutions (single sign-on)'),
      links,
      h('h3', null, 'Subscription'),
      subscriptionForm,
    ),
  );
  void loadSessions();
  void loadLinks();
  into.querySelector('h2')?.setAttribute('tabindex', '-1');
  (into.querySelector('h2') as HTMLElement | null)?.focus();
}

/** Each event of the trail in words (API.md: `GET /api/audit`). */
const EVENTS: Record<string, string> = {
  login_success: 'Signed in',
  login_failure: 'Failed sign-in',
  refresh_reuse: 'A used refresh token came back (the session was ended)',
  logout: 'Signed out',
  logout_all: 'Signed out everywhere',
  session_revoked: 'Session ended',
  user_registered: 'User created',
  role_changed: 'Role changed',
  user_disabled: 'Account disabled',
  user_enabled: 'Account enabled',
  subscription_changed: 'Subscription changed',
  api_key_created: 'API key created',
  api_key_revoked: 'API key deleted',
  password_changed: 'Password changed',
  mfa_enrolled: 'Second factor added',
  mfa_removed: 'Second factor removed',
  mfa_reset: 'Two-factor authentication reset by an admin',
  mfa_verified: 'Second factor used',
  mfa_failed: 'Wrong second-factor code',
  recovery_code_used: 'Recovery code used',
  recovery_codes_regenerated: 'New recovery codes made',
  signing_key_rotated: 'Signing key rotated',
  passkey_added: 'Passkey added',
  passkey_removed: 'Passkey removed',
  passkey_sign_in: 'Signed in with a passkey',
  passkey_failed: 'Failed passkey sign-in',
  passkey_clone_suspected: 'A passkey whose counter went backwards (a copied authenticator?) was refused',
  sso_login: 'Signed in through an institution',
  sso_linked: 'Account linked to an institution',
  sso_user_provisioned: 'User created by an institution sign-in',
  sso_failed: 'Failed institution sign-in',
  sso_provider_created: 'Identity provider added',
  sso_provider_updated: 'Identity provider changed',
  sso_provider_deleted: 'Identity provider removed',
  oauth_client_created: 'OAuth client registered',
  oauth_client_updated: 'OAuth client changed',
  oauth_client_disabled: 'OAuth client disabled',
  oauth_client_secret_rotated: 'OAuth client secret replaced',
  oauth_consent_granted: 'Access given to an application',
  oauth_consent_revoked: 'Access of an application taken back',
  oauth_token_issued: 'OAuth token issued',
  oauth_token_revoked: 'OAuth token revoked',
};

function eventWords(e: AuditEvent): string {
  const d = e.details ?? {};
  const base = EVENTS[e.event] ?? e.event.replace(/_/g, ' ');
  if (e.event === 'role_changed' && d.from && d.to) return `${base} from ${String(d.from)} to ${String(d.to)}`;
  if (e.event === 'subscription_changed' && d.status) return `${base} to ${String(d.status)}`;
  if (e.event === 'login_failure' && d.reason) return `${base} (${String(d.reason).replace(/_/g, ' ')})`;
  if (e.event === 'signing_key_rotated' && d.kid) return `${base}: new key ${String(d.kid)}`;
  return base;
}

function auditSection(): { el: HTMLElement; showUser: (userId: string) => void } {
  const messages = messageArea();
  const event = selectField('Event', [['', 'Every event'], ...Object.entries(EVENTS)]);
  const user = field('User (email address or id)', {
    type: 'search',
    autocomplete: 'off',
    hint: 'Events about or by this user; "Show their audit trail" fills it in.',
  });
  const list = h('div');
  let page = 1;
  let loads = 0;

  const name = async (id: string | null): Promise<string> => {
    if (!id) return 'nobody';
    const known = emails.get(id);
    if (known) return known;
    try {
      remember(await call(client.GET('/api/users/{id}', { params: { path: { id } } })));
    } catch {
      emails.set(id, `a removed user (${id})`);
    }
    return emails.get(id) as string;
  };

  /** The id of the user with this email address (any case), from the ones seen or from `GET /api/users`. */
  const idOf = async (email: string): Promise<string | undefined> => {
    const wanted = email.toLowerCase();
    for (const [id, known] of emails) if (known.toLowerCase() === wanted) return id;
    const found = await call(client.GET('/api/users', { params: { query: { email, limit: 100 } } }));
    found.items.forEach(remember);
    return found.items.find((u) => u.email.toLowerCase() === wanted)?.id;
  };

  const load = async () => {
    messages.clear();
    const query: Query<'audit.list'> = { page, limit: PAGE_SIZE };
    if (event.select.value) query.event = event.select.value;
    const mine = ++loads;
    try {
      const who = user.input.value.trim();
      if (who.includes('@')) {
        const id = await idOf(who);
        if (mine !== loads) return;
        if (!id) {
          replace(list, h('p', null, `No user has the email address ${who}.`));
          return;
        }
        query.user_id = id;
      } else if (who) {
        query.user_id = who;
      }
      const found = await call(client.GET('/api/audit', { params: { query } }));
      if (mine !== loads) return;
      if (!found.items.length) {
        replace(list, h('p', null, 'No event matches.'));
        return;
      }
      const rows = [];
      for (const e of found.items) {
        const who = await name(e.user_id);
        const by = e.actor_id && e.actor_id !== e.user_id ? await name(e.actor_id) : null;
        rows.push(
          h(
            'li',
            { class: 'item' },
            h('p', null, h('strong', null, eventWords(e))),
            h(
              'p',
              { class: 'hint' },
              `${formatDate(e.at)}`,
              e.user_id ? `; user ${who}` : '',
              by ? `; by ${by}` : '',
              e.ip ? `; from ${e.ip}` : '',
            ),
          ),
        );
      }
      if (mine !== loads) return;
      replace(
        list,
        h('ol', { class: 'items', 'aria-label': 'Events, newest first' }, rows),
        pager('events', found, (p) => {
          page = p;
          void load();
        }),
      );
    } catch (e) {
      fail(messages, e, {}, { user_id: 'User (an email address or a user id)', event: 'Event' });
    }
  };
  const filter = form(
    async () => {
      page = 1;
      await load();
    },
    h('div', { class: 'row' }, event.row, user.row),
    h('div', { class: 'actions' }, button('Filter', undefined, 'primary')),
  );
  void load();
  const el = section('Audit trail', filter, messages.el, list);
  el.id = 'audit-trail';
  return {
    el,
    showUser(userId: string) {
      user.input.value = emails.get(userId) ?? userId;
      page = 1;
      void load();
      el.scrollIntoView();
    },
  };
}

const lifetime = (s: number | null) =>
  s === null ? 'the service default' : s % 86400 === 0 ? `${s / 86400} days` : `${Math.round(s / 60)} minutes`;

/** A lifetime typed in minutes, as the API wants it in seconds; empty is the service default. */
function minutesToSeconds(text: string, messages: Messages): number | null | undefined {
  const t = text.trim();
  if (!t) return null;
  if (!/^\d{1,6}$/.test(t)) {
    messages.error('Type the token lifetime as a whole number of minutes, or leave it empty for the default.');
    return undefined;
  }
  return Number(t) * 60;
}

const patchClient = (id: string, body: Schema<'UpdateClientDto'>) =>
  call(client.PATCH('/api/clients/{id}', { params: { path: { id } }, body }));

function clientsSection(): HTMLElement {
  const messages = messageArea();
  const list = h('div');
  const words = { NOT_FOUND: 'That client application does not exist any more.' };
  const labels = { id: 'Client id', name: 'Name', token_ttl_seconds: 'Token lifetime' };

  const load = async () => {
    try {
      const clients = await call(client.GET('/api/clients'));
      replace(
        list,
        clients.length
          ? h(
              'ul',
              { class: 'items' },
              clients.map((c) => {
                const ttl = field(`Token lifetime of ${c.id} in minutes`, {
                  inputmode: 'numeric',
                  value: c.token_ttl_seconds === null ? '' : String(Math.round(c.token_ttl_seconds / 60)),
                  hint: 'Empty: the service default.',
                });
                const activeButton = action(
                  c.active ? `Deactivate ${c.id}` : `Activate ${c.id}`,
                  guarded(
                    messages,
                    fail,
                    async () => {
                      const after = await patchClient(c.id, {
                        active: !c.active,
                      });
                      messages.info(
                        after.active
                          ? `${after.id} is active again.`
                          : `${after.id} is deactivated: its credentials can no longer sign in or refresh.`,
                      );
                      await load();
                    },
                    words,
                    labels,
                  ),
                  c.active ? 'danger' : 'secondary',
                );
                const ttlForm = form(
                  async () => {
                    messages.clear();
                    const seconds = minutesToSeconds(ttl.input.value, messages);
                    if (seconds === undefined) return;
                    try {
                      const after = await patchClient(c.id, {
                        token_ttl_seconds: seconds,
                      });
                      messages.info(`Key:token pairs of ${after.id} now live ${lifetime(after.token_ttl_seconds)}.`);
                      await load();
                    } catch (e) {
                      fail(messages, e, words, labels);
                    }
                  },
                  h(
                    'div',
                    { class: 'row' },
                    ttl.row,
                    h('div', { class: 'actions' }, button(`Set lifetime of ${c.id}`), activeButton),
                  ),
                );
                return h(
                  'li',
                  { class: 'item' },
                  h('p', null, h('strong', null, `${c.name} (${c.id})`)),
                  h(
                    'p',
                    { class: 'hint' },
                    `${c.active ? 'Active' : 'Deactivated'}; its pairs live ${lifetime(c.token_ttl_seconds)}; added ${formatDate(c.created_at)}.`,
                  ),
                  ttlForm,
                );
              }),
            )
          : h('p', null, 'No client applications yet.'),
      );
    } catch (e) {
      fail(messages, e);
    }
  };

  const id = field('Client id', { autocomplete: 'off', hint: '1 to 64 letters, digits, dots, dashes or underscores.' });
  const name = field('Name', { autocomplete: 'off' });
  const ttl = field('Token lifetime in minutes', { inputmode: 'numeric', hint: 'Empty: the service default.' });
  const add = form(
    async () => {
      messages.clear();
      const seconds = minutesToSeconds(ttl.input.value, messages);
      if (seconds === undefined) return;
      try {
        const c = await call(
          client.POST('/api/clients', {
            body: {
              id: id.input.value.trim(),
              name: name.input.value.trim(),
              ...(seconds === null ? {} : { token_ttl_seconds: seconds }),
            },
          }),
        );
        for (const f of [id, name, ttl]) f.input.value = '';
        messages.info(`${c.name} (${c.id}) is added: apps sign in with "client": "${c.id}".`);
        await load();
      } catch (e) {
        fail(messages, e, { ...words, CONFLICT: 'A client application with that id exists already.' }, labels);
      }
    },
    h('div', { class: 'row' }, id.row, name.row, ttl.row),
    h('div', { class: 'actions' }, button('Add client application', undefined, 'primary')),
  );
  void load();
  const el = section(
    'Client applications',
    h('p', { class: 'hint' }, 'The apps that sign people in on the key:token surface (/users), each by its id.'),
    messages.el,
    list,
    h('h3', null, 'Add a client application'),
    add,
  );
  el.id = 'client-applications';
  return el;
}

/** The identity providers of single sign-on (API.md 7): list, add (OIDC or SAML), remove. */
function ssoSection(): HTMLElement {
  const messages = messageArea();
  const list = h('div');
  const words = { NOT_FOUND: 'That identity provider does not exist any more.' };
  const labels: Record<string, string> = {
    id: 'Provider id',
    name: 'Name',
    domains: 'Email domains',
    default_role: 'Role of new users',
    issuer: 'Issuer',
    client_id: 'Client id at the provider',
    client_secret: 'Client secret',
    entry_point: 'Sign-in URL of the identity provider',
    idp_issuer: 'Entity id of the identity provider',
    idp_certificate: 'Signing certificate of the identity provider',
  };

  const load = async () => {
    try {
      const providers = await call(client.GET('/api/sso/providers'));
      replace(
        list,
        providers.length
          ? h(
              'ul',
              { class: 'items' },
              providers.map((p) =>
                h(
                  'li',
                  { class: 'item' },
                  h('p', null, h('strong', null, `${p.name} (${p.id}, ${p.type.toUpperCase()})`)),
                  h(
                    'p',
                    { class: 'hint' },
                    `For ${p.domains.join(', ')}; new users become ${p.default_role}; added ${formatDate(p.created_at)}.`,
                  ),
                  p.type === 'oidc'
                    ? h(
                        'p',
                        { class: 'hint' },
                        `Issuer ${p.issuer ?? ''}; redirect URI to register there: ${p.redirect_uri ?? ''}`,
                      )
                    : h(
                        'p',
                        { class: 'hint' },
                        `Entity id ${p.sp_entity_id ?? ''}; ACS URL ${p.acs_url ?? ''}; metadata ${p.metadata_url ?? ''}`,
                      ),
                  h(
                    'div',
                    { class: 'actions' },
                    action(
                      `Remove ${p.id}`,
                      guarded(
                        messages,
                        fail,
                        async () => {
                          await call(client.DELETE('/api/sso/providers/{id}', { params: { path: { id: p.id } } }));
                          messages.info(
                            `${p.name} is removed, with its account links: its people sign in another way.`,
                          );
                          await load();
                        },
                        words,
                      ),
                      'danger',
                    ),
                  ),
                ),
              ),
            )
          : h('p', null, 'No identity providers yet.'),
      );
    } catch (e) {
      fail(messages, e);
    }
  };

  // The form opens with a protocol chosen (OpenID Connect, the more common), its fields shown.
  const type = selectField(
    'Protocol',
    [
      ['oidc', 'OpenID Connect'],
      ['saml', 'SAML 2.0'],
    ],
    'oidc',
  );
  const id = field('Provider id', { autocomplete: 'off', hint: 'A short slug, such as example-university.' });
  const name = field('Name', { autocomplete: 'off' });
  const domains = field('Email domains', { autocomplete: 'off', hint: 'Separated by commas, such as example.edu.' });
  const role = selectField(
    'Role of new users',
    ROLES.map((r) => [r, r]),
    'viewer',
  );
  const issuer = field('Issuer', { type: 'url', autocomplete: 'off', hint: 'Its discovery document is read at once.' });
  const clientId = field('Client id at the provider', { autocomplete: 'off' });
  const clientSecret = field('Client secret', { type: 'password', autocomplete: 'off' });
  const entryPoint = field('Sign-in URL of the identity provider', { type: 'url', autocomplete: 'off' });
  const idpIssuer = field('Entity id of the identity provider', { autocomplete: 'off' });
  const certId = uid('cert');
  const cert = h('textarea', { id: certId, rows: 6, spellcheck: 'false' });
  const certRow = h(
    'div',
    { class: 'field' },
    h('label', { for: certId }, 'Signing certificate of the identity provider'),
    h('p', { class: 'hint' }, 'PEM, from -----BEGIN CERTIFICATE-----.'),
    cert,
  );
  const oidcRows = h('div', { class: 'stack' }, issuer.row, clientId.row, clientSecret.row);
  const samlRows = h('div', { class: 'stack' }, entryPoint.row, idpIssuer.row, certRow);
  const showType = () => {
    oidcRows.hidden = type.select.value !== 'oidc';
    samlRows.hidden = type.select.value !== 'saml';
  };
  type.select.addEventListener('change', showType);
  showType();

  const add = form(
    async () => {
      messages.clear();
      const common = {
        id: id.input.value.trim(),
        type: type.select.value,
        name: name.input.value.trim(),
        domains: domains.input.value
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean),
        default_role: role.select.value,
      };
      const specific =
        type.select.value === 'oidc'
          ? {
              issuer: issuer.input.value.trim(),
              client_id: clientId.input.value.trim(),
              client_secret: clientSecret.input.value,
            }
          : {
              entry_point: entryPoint.input.value.trim(),
              idp_issuer: idpIssuer.input.value.trim(),
              idp_certificate: cert.value,
            };
      try {
        const p = await call(
          client.POST('/api/sso/providers', { body: { ...common, ...specific } as Schema<'CreateSsoProviderDto'> }),
        );
        for (const f of [id, name, domains, issuer, clientId, clientSecret, entryPoint, idpIssuer]) f.input.value = '';
        cert.value = '';
        messages.info(`${p.name} (${p.id}) is added: people of ${p.domains.join(', ')} can sign in with it.`);
        await load();
      } catch (e) {
        fail(messages, e, { ...words, CONFLICT: 'An identity provider with that id exists already.' }, labels);
      }
    },
    h('div', { class: 'row' }, type.row, id.row, name.row),
    h('div', { class: 'row' }, domains.row, role.row),
    oidcRows,
    samlRows,
    h('div', { class: 'actions' }, button('Add identity provider', undefined, 'primary')),
  );
  void load();
  const el = section(
    'SSO providers',
    h(
      'p',
      { class: 'hint' },
      'Institutions whose people sign in with their own identity provider, found by the email domain.',
    ),
    messages.el,
    list,
    h('h3', null, 'Add an identity provider'),
    add,
  );
  el.id = 'sso-providers';
  return el;
}

const KEY_STATES: Record<string, string> = {
  pending: 'published, signs from',
  active: 'signs now, since',
  retired: 'signs no more; published until',
  expired: 'out of the key set since',
};

function signingKeysSection(): HTMLElement {
  const messages = messageArea();
  const list = h('div');
  const load = async () => {
    try {
      const { algorithm, keys } = await call(client.GET('/api/admin/signing-keys'));
      if (algorithm === 'HS256') {
        replace(
          list,
          h(
            'p',
            null,
            'Access tokens are signed with HS256 and the shared JWT_SECRET: there are no signing keys to list or rotate. ' +
              'Set JWT_ALGORITHM=ES256 to sign with keys that other services can verify.',
          ),
        );
        return;
      }
      replace(
        list,
        h('p', null, `Access tokens are signed with ${algorithm}.`),
        h(
          'ul',
          { class: 'items' },
          keys.map((k) => {
            const when = k.state === 'pending' || k.state === 'active' ? k.activate_at : k.expire_at;
            return h(
              'li',
              { class: k.state === 'active' ? 'item current' : 'item' },
              h('p', null, h('strong', null, `Key ${k.kid} (${k.alg})`)),
              h('p', { class: 'hint' }, `${k.state}: ${KEY_STATES[k.state] ?? ''} ${formatDate(when)}.`),
            );
          }),
        ),
        h(
          'div',
          { class: 'actions' },
          action(
            'Rotate the signing key now',
            guarded(messages, fail, async () => {
              const r = await call(client.POST('/api/admin/signing-keys/rotate'));
              messages.info(`Key ${r.key.kid} is published and signs from ${formatDate(r.key.activate_at)}.`);
              await load();
            }),
            'danger',
          ),
        ),
      );
    } catch (e) {
      fail(messages, e);
    }
  };
  void load();
  const el = section('Signing keys', messages.el, list);
  el.id = 'signing-keys';
  return el;
}

start();
