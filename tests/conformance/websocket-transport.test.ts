import { describe } from 'vitest';
import { useDirectPairs } from '../support/direct-pair.js';
import { runLateListenerCheck, runTransportConformance } from './transport-suite.js';

describe('transport conformance: WebSocket through a direct server on loopback', () => {
  const direct = useDirectPairs();
  runTransportConformance('websocket (dialing end first)', () => direct.pair('websocket'));
  runTransportConformance('websocket (accepted end first)', () => direct.pair('websocket', true));
  runLateListenerCheck('websocket (dialing end first)', () => direct.pair('websocket'));
  runLateListenerCheck('websocket (accepted end first)', () => direct.pair('websocket', true));
});
