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

describe('shell line parsing with the command registry: mistyped names get the nearest one', () => {
  const names = ['expose', 'unexpose', 'route mode', 'route list', 'audit', 'help'];
  const shape = { service: 1, namespace: 1, port: 1, host: 1, auth: 1 };
  const commands = {
    names: () => names,
    subcommandsOf: (top: string) => names.filter((n) => n.startsWith(`${top} `)).map((n) => n.slice(top.length + 1)),
    get: (n: string) => (names.includes(n) ? { options: { shape: n === 'expose' ? shape : {} } } : undefined),
  };

  it('names the nearest command, subcommand and option', () => {
    expect(parseShellLine('/exopse service:x', commands)).toMatchObject({ kind: 'invalid', message: 'unknown command /exopse; did you mean /expose? /help lists what you may run' });
    expect(parseShellLine('/route lst', commands)).toMatchObject({ kind: 'invalid', message: 'unknown subcommand /route lst; did you mean /route list? /route takes mode, list' });
    expect(parseShellLine('/expose servce:immich nmspace:media', commands)).toMatchObject({
      kind: 'invalid',
      message: '/expose: unknown option "servce" (did you mean service:?), unknown option "nmspace" (did you mean namespace:?); /expose takes service: namespace: port: host: auth:',
    });
    expect(parseShellLine('/zzzzzz', commands)).toMatchObject({ kind: 'invalid', message: 'unknown command /zzzzzz; /help lists what you may run' });
  });

  it('/route alone names its subcommands', () => {
    expect(parseShellLine('/route', commands)).toMatchObject({ kind: 'invalid', message: '/route needs a subcommand: /route mode, /route list' });
  });

  it('leaves known names alone', () => {
    expect(parseShellLine('/route list', commands)).toMatchObject({ kind: 'command', name: 'route list' });
    expect(parseShellLine('/expose service:immich', commands)).toMatchObject({ kind: 'command', name: 'expose', options: { service: 'immich' } });
  });
});
