/**
 * The OAuth clients panel of the admin console (API.md 15): the applications that sign people in through
 * this service's OpenID Connect provider, and the pipelines that get tokens by client credentials. Add
 * one (its secret shown once, as selectable text), replace a secret, disable one.
 */
import { call, client, oauthScopeValues, type Schema } from '../shared/api';
import { action, form, guarded, selectField, type failWith } from '../shared/controls';
import { button, checkbox, field, formatDate, h, messageArea, replace, secretText, section } from '../shared/dom';

type OAuthClient = Schema<'OAuthClientView'>;
type NewClient = Schema<'CreateOAuthClientDto'>;
type GrantType = NewClient['grant_types'][number];

const GRANTS: [GrantType, string][] = [
  ['authorization_code', 'Sign people in (authorization code with PKCE)'],
  ['refresh_token', 'Refresh tokens'],
  ['client_credentials', 'Client credentials (pipelines, services; confidential only)'],
  ['urn:ietf:params:oauth:grant-type:device_code', 'Device code (command-line tools)'],
];
// The scopes a client may be given, as the document lists them.
const SCOPES = oauthScopeValues;

const lines = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export function oauthClientsSection(fail: ReturnType<typeof failWith>): HTMLElement {
  const messages = messageArea();
  const list = h('div');
  const once = h('div');
  const words = { NOT_FOUND: 'That OAuth client does not exist any more.' };
  const labels = { name: 'Name', redirect_uris: 'Redirect URIs', grant_types: 'Grants', scopes: 'Scopes' };

  const showSecret = (name: string, clientId: string, secret: string) =>
    replace(
      once,
      h(
        'div',
        { class: 'once' },
        h('p', null, 'Client id: ', h('code', null, clientId)),
        secretText(`The client secret of ${name} (shown only now: copy it)`, secret),
        h(
          'div',
          { class: 'actions' },
          button('I have copied the secret', () => once.replaceChildren()),
        ),
      ),
    );

  const load = async () => {
    try {
      const clients: OAuthClient[] = await call(client.GET('/api/oauth/clients'));
      replace(
        list,
        clients.length
          ? h(
              'ul',
              { class: 'items' },
              clients.map((c) =>
                h(
                  'li',
                  { class: 'item' },
                  h('p', null, h('strong', null, c.name), ' ', h('code', null, c.client_id)),
                  h(
                    'p',
                    { class: 'hint' },
                    `${c.enabled ? 'Enabled' : 'Disabled'}; ${c.type}${c.first_party ? ', first party (no consent page)' : ''}; ` +
                      `grants: ${c.grant_types.join(', ')}; scopes: ${c.scopes.join(' ')}; added ${formatDate(c.created_at)}.`,
                  ),
                  c.redirect_uris.length
                    ? h('p', { class: 'hint' }, `Redirect URIs: ${c.redirect_uris.join(' ')}`)
                    : null,
                  c.enabled
                    ? h(
                        'div',
                        { class: 'actions' },
                        c.type === 'confidential'
                          ? action(
                              `Replace the secret of ${c.name}`,
                              guarded(
                                messages,
                                fail,
                                async () => {
                                  const r = await call(
                                    client.POST('/api/oauth/clients/{id}/secret', {
                                      params: { path: { id: c.client_id } },
                                    }),
                                  );
                                  showSecret(c.name, c.client_id, r.client_secret);
                                },
                                words,
                              ),
                            )
                          : null,
                        action(
                          `Disable ${c.name}`,
                          guarded(
                            messages,
                            fail,
                            async () => {
                              await call(
                                client.DELETE('/api/oauth/clients/{id}', { params: { path: { id: c.client_id } } }),
                              );
                              messages.info(`${c.name} is disabled: its codes and tokens stopped working.`);
                              await load();
                            },
                            words,
                          ),
                          'danger',
                        ),
                      )
                    : null,
                ),
              ),
            )
          : h('p', null, 'No OAuth clients yet.'),
      );
    } catch (e) {
      fail(messages, e);
    }
  };

  const name = field('Application name', { autocomplete: 'off', hint: 'Shown to people on the consent page.' });
  const type = selectField(
    'Client type',
    [
      ['confidential', 'Confidential (a server that keeps a secret)'],
      ['public', 'Public (a browser or mobile app, a command-line tool)'],
    ],
    'confidential',
  );
  const redirects = field('Redirect URIs', {
    autocomplete: 'off',
    hint: 'Separated by spaces; matched exactly. https, or http on 127.0.0.1 or localhost.',
  });
  const grantBoxes = GRANTS.map(([value, words]) => ({ value, ...checkbox(words) }));
  grantBoxes[0].input.checked = true;
  const scopeBoxes = SCOPES.map((s) => ({ value: s, ...checkbox(`Scope ${s}`) }));
  for (const b of scopeBoxes) b.input.checked = ['openid', 'profile', 'email'].includes(b.value);
  const firstParty = checkbox("The organisation's own application (no consent page)");
  const add = form(
    async () => {
      messages.clear();
      try {
        const c = await call(
          client.POST('/api/oauth/clients', {
            body: {
              name: name.input.value.trim(),
              type: type.select.value as NewClient['type'],
              redirect_uris: lines(redirects.input.value),
              grant_types: grantBoxes.filter((b) => b.input.checked).map((b) => b.value),
              scopes: scopeBoxes.filter((b) => b.input.checked).map((b) => b.value),
              first_party: firstParty.input.checked,
            },
          }),
        );
        name.input.value = '';
        redirects.input.value = '';
        if (c.client_secret) showSecret(c.name, c.client_id, c.client_secret);
        else replace(once, h('p', { class: 'once' }, 'Client id of ', c.name, ': ', h('code', null, c.client_id)));
        messages.info(`${c.name} is registered.`);
        await load();
      } catch (e) {
        fail(messages, e, words, labels);
      }
    },
    name.row,
    type.row,
    redirects.row,
    h('fieldset', null, h('legend', null, 'Grants'), ...grantBoxes.map((b) => b.row)),
    h('fieldset', null, h('legend', null, 'Scopes'), ...scopeBoxes.map((b) => b.row)),
    firstParty.row,
    h('div', { class: 'actions' }, button('Register OAuth client', undefined, 'primary')),
  );
  void load();
  const el = section(
    'OAuth clients',
    h('p', { class: 'hint' }, 'Applications that sign people in through this service (OpenID Connect), and pipelines.'),
    messages.el,
    once,
    list,
    h('h3', null, 'Register an OAuth client'),
    add,
  );
  el.id = 'oauth-clients';
  return el;
}
