import { createRestClient } from '#client-core/rest-client';
import { ChatApp } from './app.js';
import { Auth, AuthError, DEMO_USER_PATTERN, type Session } from './auth.js';
import { type AppConfig, loadConfig } from './config.js';
import { byId } from './dom.js';

/** Start-up: config.json, then the sign-in screen or straight into the chat. */
async function main(): Promise<void> {
  const boot = byId('boot');
  let config: AppConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    boot.textContent = `Cannot start: ${(error as Error).message}`;
    return;
  }
  boot.hidden = true;
  const auth = new Auth(config);
  const rest = createRestClient(
    config.restUrl,
    () => auth.restHeaders(),
    (url, init) => fetch(url, init),
  );

  const startChat = (session: Session) => {
    byId('sign-in').hidden = true;
    const app = new ChatApp(config, auth, rest, session, () => showSignIn());
    app.start();
  };

  const showSignIn = () => {
    byId('sign-in').hidden = false;
    byId('sign-in-error').textContent = '';
    const form = config.authMode === 'none' ? byId('demo-form') : byId('cognito-form');
    form.hidden = false;
    form.querySelector('input')?.focus();
  };

  wireDemoForm(auth, startChat);
  wireCognitoForm(auth, startChat);

  if (auth.session) startChat(auth.session);
  else showSignIn();
}

function wireDemoForm(auth: Auth, startChat: (session: Session) => void): void {
  const input = byId<HTMLInputElement>('demo-name');
  input.pattern = DEMO_USER_PATTERN;
  byId('demo-form').addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      startChat(auth.signInDemo(input.value));
    } catch (error) {
      showSignInError(error);
    }
  });
}

function wireCognitoForm(auth: Auth, startChat: (session: Session) => void): void {
  let challengeSession: string | undefined;
  const form = byId<HTMLFormElement>('cognito-form');
  const newPasswordRow = byId('new-password-row');
  const newPassword = byId<HTMLInputElement>('cognito-new-password');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const username = byId<HTMLInputElement>('cognito-username').value.trim();
    const password = byId<HTMLInputElement>('cognito-password').value;
    const submit = form.querySelector('button');
    if (submit) submit.disabled = true;
    byId('sign-in-error').textContent = '';
    try {
      const result = challengeSession
        ? await auth.completeNewPassword(username, newPassword.value, challengeSession)
        : await auth.signInCognito(username, password);
      if ('session' in result) {
        challengeSession = undefined;
        newPasswordRow.hidden = true;
        form.reset();
        startChat(result.session);
      } else {
        challengeSession = result.challengeSession;
        newPasswordRow.hidden = false;
        newPassword.required = true;
        byId('sign-in-error').textContent = 'Choose a new password to finish signing in.';
        newPassword.focus();
      }
    } catch (error) {
      showSignInError(error);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}

function showSignInError(error: unknown): void {
  byId('sign-in-error').textContent =
    error instanceof AuthError ? error.message : `Sign-in failed: ${(error as Error).message}`;
}

void main();
