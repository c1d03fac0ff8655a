/**
 * Controls of a signed-in page beyond those of dom.ts: a form and a button that run one request at a
 * time, a labelled select, and the way a failure is told to the person (an ended session back to the
 * sign-in form, a step-up explained with the way to do it, the rest in words).
 */
import { ApiError, describe } from './api';
import { button, h, replace, uid, type Child, type Messages } from './dom';
import { PasskeyCeremonyError } from './passkeys';

/** A form whose submit runs one request at a time, its controls disabled meanwhile. */
export function form(onSubmit: () => Promise<void>, ...children: Child[]): HTMLFormElement {
  const el = h('form', { class: 'stack', novalidate: true }, ...children);
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    const controls = [
      ...el.querySelectorAll<HTMLButtonElement | HTMLInputElement | HTMLSelectElement>('button, input, select'),
    ];
    controls.forEach((c) => (c.disabled = true));
    void onSubmit().finally(() => controls.forEach((c) => (c.disabled = false)));
  });
  return el;
}

/** A button whose action runs once at a time. */
export function action(
  label: string,
  run: () => Promise<void>,
  kind: 'primary' | 'secondary' | 'danger' = 'secondary',
): HTMLButtonElement {
  const b = button(
    label,
    () => {
      b.disabled = true;
      void run().finally(() => (b.disabled = false));
    },
    kind,
  );
  return b;
}

/** A labelled select of [value, words] options. */
export function selectField(
  label: string,
  options: [string, string][],
  value = '',
): { row: HTMLElement; select: HTMLSelectElement } {
  const id = uid('sel');
  const select = h(
    'select',
    { id, name: id },
    options.map(([v, words]) => h('option', { value: v }, words)),
  );
  select.value = value;
  return { row: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
}

export interface FailureHandlers {
  /** The session behind the cookie has ended: back to the sign-in form with this notice. */
  signedOut(notice: string): void;
  /** Signs out and asks for a sign-in with the second factor. */
  stepUp(): void;
}

/** Says a failure of a signed-in page in words, or moves the person on where words are not enough. */
export function failWith(handlers: FailureHandlers) {
  return (messages: Messages, e: unknown, words: Record<string, string> = {}, labels: Record<string, string> = {}) => {
    if (e instanceof ApiError && e.status === 401 && (e.code === 'INVALID_TOKEN' || e.code === 'TOKEN_EXPIRED')) {
      handlers.signedOut('Your session has ended. Sign in again.');
      return;
    }
    // The browser's own refusal of a passkey ceremony, already in words (shared/passkeys.ts).
    if (e instanceof PasskeyCeremonyError) {
      messages.error(e.message);
      return;
    }
    if (e instanceof ApiError && e.code === 'MFA_STEP_UP_REQUIRED') {
      messages.error(
        'This needs a sign-in with your second factor, and this session was started without it. ',
        button('Sign out and sign in again', () => handlers.stepUp()),
      );
      return;
    }
    messages.error(describe(e, words, labels));
  };
}

/**
 * The run of an action that reports in `messages`: clears them, runs, and tells a failure with `fail`
 * (the page's own, of failWith), with the words and labels of that action.
 */
export function guarded(
  messages: Messages,
  fail: ReturnType<typeof failWith>,
  run: () => Promise<void>,
  words?: Record<string, string>,
  labels?: Record<string, string>,
): () => Promise<void> {
  return async () => {
    messages.clear();
    try {
      await run();
    } catch (e) {
      fail(messages, e, words, labels);
    }
  };
}

/**
 * A button for an action that ends someone's sessions: the first press asks the question, with the
 * action's own button and a Cancel beside it; only the second press does it.
 */
export function confirmedAction(
  label: string,
  question: string,
  yes: string,
  run: () => Promise<void>,
  kind: 'primary' | 'secondary' | 'danger' = 'danger',
): HTMLElement {
  const box = h('span', { class: 'confirm' });
  const first = button(label, () => ask(), kind);
  const back = () => replace(box, first);
  const ask = () => {
    const yesButton = action(
      yes,
      async () => {
        await run();
        if (box.isConnected) {
          back();
          first.focus();
        }
      },
      kind,
    );
    replace(
      box,
      h(
        'span',
        { class: 'confirm-ask', role: 'group', 'aria-label': question },
        h('strong', null, question),
        yesButton,
        button('Cancel', () => {
          back();
          first.focus();
        }),
      ),
    );
    yesButton.focus();
  };
  box.append(first);
  return box;
}
