/**
 * The few HTML pages that oidc-provider renders itself (errors, the device code form and confirmation,
 * the logout question and its answer), in the look of the account page: its stylesheet, no inline script
 * or style, every field labelled, every action a button named by its words.
 */
const esc = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${esc(title)}</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/assets/style.css" />
  </head>
  <body>
    <main class="page"><section class="card"><h1>${esc(title)}</h1>${body}</section></main>
  </body>
</html>`;
}

/** Words for the protocol's error codes; the code itself stays visible for whoever reports it. */
const WORDS: Record<string, string> = {
  invalid_request: 'The application sent a request that this service cannot accept.',
  invalid_client: 'The application is not registered here, or it has been disabled.',
  unauthorized_client: 'The application may not sign people in this way.',
  unsupported_response_type: 'The application asked for a kind of sign-in that this service does not offer.',
  invalid_scope: 'The application asked for access that it may not have.',
  access_denied: 'Access was refused.',
  invalid_redirect_uri: 'The application asked to send you to an address that is not registered for it.',
  login_required: 'You need to sign in first.',
  consent_required: 'The application needs your consent first.',
  server_error: 'Something went wrong on our side. Try again in a moment.',
};

export function errorPage(out: { error?: string; error_description?: string }): string {
  const words = WORDS[out.error ?? ''] ?? 'This sign-in cannot continue.';
  return page(
    'Sign-in cannot continue',
    `<p role="alert">${esc(words)}</p><p>${esc(out.error_description ?? '')}</p><p><small>Error code: <code>${esc(
      out.error ?? 'error',
    )}</code></small></p><p><a href="/account">Go to your account</a></p>`,
  );
}

export function deviceInputPage(form: string, wrong: boolean, other: boolean): string {
  const labelled = form
    .replace(/ onfocus="[^"]*"/, '')
    .replace('type="text" name="user_code"', 'type="text" id="user_code" name="user_code"')
    .replace('<input\n', '<label for="user_code">Code shown on your device</label>\n  <input\n');
  const msg = wrong
    ? '<p role="alert">That code is not right, or it has expired. Try again.</p>'
    : other
      ? '<p role="alert">The sign-in could not go on. Start again on your device.</p>'
      : '<p>Enter the code that your device shows.</p>';
  return page(
    'Connect a device',
    `${msg}${labelled}<p><button type="submit" class="primary" form="op.deviceInputForm">Continue</button></p>`,
  );
}

export function deviceConfirmPage(form: string, clientName: string, userCode: string): string {
  return page(
    'Connect a device',
    `<p><strong>${esc(clientName)}</strong> asks to act for you. Your device should show this code:</p>
<p><code>${esc(userCode)}</code></p>
<p>If you did not start this, or the code is different, cancel.</p>${form}
<p><button type="submit" class="primary" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Cancel</button></p>`,
  );
}

export function deviceDonePage(clientName: string | undefined): string {
  return page('Device connected', `<p>${esc(clientName ?? 'The device')} is signed in. You can close this page.</p>`);
}

export function logoutPage(form: string, host: string): string {
  return page(
    'Sign out',
    `<p>Do you want to sign out of ${esc(host)}?</p>${form}
<p><button type="submit" class="primary" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button></p>`,
  );
}

export function loggedOutPage(clientName: string | undefined): string {
  return page(
    'Signed out',
    `<p>You are signed out${clientName ? ` of ${esc(clientName)}` : ''}.</p><p><a href="/account">Sign in again</a></p>`,
  );
}
