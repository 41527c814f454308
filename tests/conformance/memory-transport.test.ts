import { describe } from 'vitest';
import { createMemoryTransportPair } from '../../peer/transport/memory-transport.js';
import { runLateListenerCheck, runTransportConformance } from './transport-suite.js';

describe('transport conformance', () => {
  runTransportConformance('memory pair', () => createMemoryTransportPair());
  runLateListenerCheck('memory pair', () => createMemoryTransportPair());
});
