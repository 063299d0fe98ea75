import { describe, expect, it } from 'vitest';
import { parseShellLine } from '../../../src/chat/shell/parse-line.js';

const isGroup = (n: string) => n === 'route';

describe('shell line parsing', () => {
  it('parses a command with name:value options', () => {
    expect(parseShellLine('/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only', isGroup)).toEqual({
      kind: 'command',
      name: 'expose',
      options: { service: 'immich', namespace: 'media', port: '2283', host: 'photos', auth: 'tailscale-only' },
      text: '/expose service:immich namespace:media port:2283 host:photos auth:tailscale-only',
    });
  });

  it('takes the subcommand word of a command group', () => {
    expect(parseShellLine('/route mode host:photos mode:mtls-strict', isGroup)).toMatchObject({ name: 'route mode', options: { host: 'photos', mode: 'mtls-strict' } });
    expect(parseShellLine('/route', isGroup)).toEqual({ kind: 'invalid', message: '/route needs a subcommand' });
  });

  it('acts as another user with @USER', () => {
    expect(parseShellLine('@bob /route list', isGroup)).toMatchObject({ kind: 'command', as: 'bob', name: 'route list', text: '/route list' });
    expect(parseShellLine('@alice approve p-abcd23', isGroup)).toEqual({ kind: 'decide', as: 'alice', action: 'approve', planId: 'p-abcd23', text: 'approve p-abcd23' });
  });

  it('reads approve and reject with or without a plan id', () => {
    expect(parseShellLine('approve', isGroup)).toMatchObject({ kind: 'decide', action: 'approve', planId: undefined });
    expect(parseShellLine('/reject p-x2', isGroup)).toMatchObject({ kind: 'decide', action: 'reject', planId: 'p-x2' });
    expect(parseShellLine('approve a b', isGroup)).toMatchObject({ kind: 'invalid' });
  });

  it('keeps quoted values whole', () => {
    expect(parseShellLine('/expose host:"a b" service:\'x y\'', isGroup)).toMatchObject({ options: { host: 'a b', service: 'x y' } });
    expect(parseShellLine('/expose host:"a b', isGroup)).toEqual({ kind: 'invalid', message: 'unclosed " quote' });
  });

  it('explains malformed lines', () => {
    expect(parseShellLine('expose', isGroup)).toMatchObject({ kind: 'invalid', message: expect.stringContaining('commands start with /') });
    expect(parseShellLine('/expose service', isGroup)).toMatchObject({ kind: 'invalid', message: 'options are written name:value; "service" is not' });
    expect(parseShellLine('/expose a:1 a:2', isGroup)).toMatchObject({ kind: 'invalid', message: 'option a is given twice' });
    expect(parseShellLine('   ', isGroup)).toEqual({ kind: 'empty' });
    expect(parseShellLine('# a comment', isGroup)).toEqual({ kind: 'empty' });
  });
});
