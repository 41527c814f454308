import { describe } from 'vitest';
import { useDirectPairs } from '../support/direct-pair.js';
import { runLateListenerCheck, runTransportConformance } from './transport-suite.js';

describe('transport conformance: HTTP tunnel through a direct server on loopback', () => {
  const direct = useDirectPairs({ websocket: false });
  runTransportConformance('http (dialing end first)', () => direct.pair('http'));
  runTransportConformance('http (accepted end first)', () => direct.pair('http', true));
  runLateListenerCheck('http (dialing end first)', () => direct.pair('http'));
  runLateListenerCheck('http (accepted end first)', () => direct.pair('http', true));
});
