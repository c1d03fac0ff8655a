/**
 * "Applications with access" (API.md 15): the applications that the person let act for them through the
 * OAuth provider, with what each may do, and a button that takes the access back (its consent, codes
 * and tokens end at once).
 */
import { call, client } from '../shared/api';
import { action, guarded, type failWith } from '../shared/controls';
import { formatDate, h, messageArea, replace, section } from '../shared/dom';

export function applicationsSection(fail: ReturnType<typeof failWith>, reloads: (() => void)[]): HTMLElement {
  const messages = messageArea();
  const list = h('ul', { class: 'items' });
  const load = async () => {
    try {
      const grants = await call(client.GET('/api/oauth/grants'));
      replace(
        list,
        grants.length
          ? grants.map((g) =>
              h(
                'li',
                { class: 'item' },
                h('p', null, h('strong', null, g.client_name)),
                h('p', { class: 'hint' }, `May: ${g.scopes.join(', ')}. Allowed ${formatDate(g.granted_at)}.`),
                h(
                  'div',
                  { class: 'actions' },
                  action(
                    `Remove access of ${g.client_name}`,
                    guarded(messages, fail, async () => {
                      await call(
                        client.DELETE('/api/oauth/grants/{clientId}', { params: { path: { clientId: g.client_id } } }),
                      );
                      messages.info(`${g.client_name} no longer has access: its tokens stopped working.`);
                      await load();
                    }),
                    'danger',
                  ),
                ),
              ),
            )
          : [h('li', { class: 'hint' }, 'No application has access to your account.')],
      );
    } catch (e) {
      fail(messages, e);
    }
  };
  reloads.push(() => void load());
  void load();
  return section('Applications with access', messages.el, list);
}
