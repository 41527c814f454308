import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseIceServer } from '../../cli/ice-servers.js';

describe('--ice-server', () => {
  it('reads STUN and TURN servers, TURN credentials out of the URL', () => {
    let list = parseIceServer('stun:stun.example.org:3478');
    list = parseIceServer('turn:alice:s%40cret@turn.example.org:3478?transport=tcp', list);
    list = parseIceServer('turns:turn.example.org', list);
    expect(list).toEqual([
      { urls: 'stun:stun.example.org:3478' },
      {
        urls: 'turn:turn.example.org:3478?transport=tcp',
        username: 'alice',
        credential: 's@cret',
      },
      { urls: 'turns:turn.example.org' },
    ]);
  });

  it('refuses anything else with a usage error', () => {
    for (const bad of [
      'http://example.org',
      'example.org:3478',
      'stun:user:pass@example.org',
      'turn:nouser@example.org',
      'stun:a b',
      `stun:${'a'.repeat(600)}`,
    ]) {
      expect(() => parseIceServer(bad), bad).toThrow(InvalidArgumentError);
    }
  });
});
