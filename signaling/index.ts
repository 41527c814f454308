/** The signaling server lands here (issue: the signaling server and its client). */
export {};
