import { describe, expect, it } from 'vitest';
import { redactDestination } from '../../src/secrets/redact.ts';

// Made-up webhook credentials in their public formats (not real).
const SLACK = `https://hooks.slack.com/services/T${'0A1B2C3D4'}/B${'5E6F7G8H9'}/${'aB3dE5fG7hJ9kL1mN3pQ5rS7'}`;
const DISCORD = `https://discord.com/api/webhooks/${'123456789012345678'}/${'Zx8kQ2mV7pL4rT9wB3nY6cJ1hF5dS0aGeU2iWq4Rt6Yu8Io0Pa2Sd4Fg6Hj8Kl0ZxCvBnM12'}`;

describe('redactDestination', () => {
  it.each([SLACK, DISCORD])('keeps only the origin of a URL that is itself a credential: %s', (url) => {
    const redacted = redactDestination(url);
    expect(redacted).toMatch(/^https:\/\/[a-z.]+\/…\(path withheld: [a-z0-9-, ]+\)$/);
    expect(redacted).not.toContain(url.split('/').at(-1)!);
  });

  it.each(['https://api.example.com/v1/builds/142', 'http://127.0.0.1:8080/hook?x=1', 'xmpp:alice@example.com', 'mailto:ops@example.com'])('leaves an ordinary destination as it is: %s', (destination) => {
    expect(redactDestination(destination)).toBe(destination);
  });
});
