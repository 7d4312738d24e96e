import nodemailer from 'nodemailer';
import type { Channel } from './channel.js';
import { ChannelError } from './channel-error.js';
import { formatMessage } from './format-message.js';
import { loginNeedsStartTls } from './login-needs-start-tls.js';

export interface EmailChannelOptions {
  /** smtp://user:password@host:587 or smtps://...:465 (RELAY_NOTIFY_SMTP_URL): the password never reaches a message. */
  smtpUrl: string;
  /** Comma-separated addresses (RELAY_NOTIFY_EMAIL_TO). */
  to: string;
  /** RELAY_NOTIFY_EMAIL_FROM; default: the SMTP user when it is an address, else trade-relay@<SMTP host>. */
  from?: string;
  timeoutMs: number;
}

// SMTP's own answers: 4xx is "try again later", 5xx is final; without one, these codes are the network's.
const RETRYABLE_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROTOCOL']);

/** Sends the human message as a plain-text e-mail through nodemailer, one connection per message. */
export function createEmailChannel(options: EmailChannelOptions): Channel {
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    requireTLS: loginNeedsStartTls(options.smtpUrl),
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  const from = options.from ?? defaultFrom(options.smtpUrl);
  return {
    name: 'email',
    async send(message, signal) {
      const { subject, text } = formatMessage(message);
      let onAbort = (): void => undefined;
      const aborted = new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(new ChannelError('email: stopped (the relay is shutting down)', { retryable: false }));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        await Promise.race([transport.sendMail({ from, to: options.to, subject, text }), aborted]);
      } catch (error) {
        if (error instanceof ChannelError) throw error;
        throw smtpError(error);
      } finally {
        signal.removeEventListener('abort', onAbort);
        aborted.catch(() => undefined);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** An error from nodemailer in safe words: its code and SMTP status, never its text (it may quote the login). */
function smtpError(error: unknown): ChannelError {
  const { code, responseCode } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; responseCode?: unknown };
  const smtpStatus = typeof responseCode === 'number' ? responseCode : null;
  const codeText = typeof code === 'string' ? code : null;
  const retryable = smtpStatus !== null ? smtpStatus >= 400 && smtpStatus < 500 : codeText === null || RETRYABLE_CODES.has(codeText);
  const words = [codeText, smtpStatus === null ? null : `SMTP ${smtpStatus}`].filter((part) => part !== null).join(', ');
  return new ChannelError(`email: not sent (${words === '' ? 'unknown error' : words})`, { retryable });
}

function defaultFrom(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  const user = decodeURIComponent(url.username);
  return user.includes('@') ? user : `trade-relay@${url.hostname.replace(/^\[|\]$/g, '')}`;
}
