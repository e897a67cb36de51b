/* Hyper-V connection IDs the board offers every guest (README "Host ports"):
 *   1  message port: hvemu receives the message and posts it back, same type and payload, to
 *      the sender's SINT 2 (an echo endpoint, as a VMBus host would answer)
 *   2  event port: hvemu receives the signal and sets the same flag back on the sender's SINT 2
 *   3  message port looping back to VP 0, SINT 3 (guest-to-guest)
 *   4  event port looping back to VP 0, SINT 3, flags 0-63 */
#ifndef HVEMU_HOST_PORTS_H
#define HVEMU_HOST_PORTS_H

#define HVEMU_CONN_ECHO_MESSAGE 1
#define HVEMU_CONN_ECHO_EVENT 2
#define HVEMU_CONN_LOOP_MESSAGE 3
#define HVEMU_CONN_LOOP_EVENT 4
#define HVEMU_ECHO_SINT 2
#define HVEMU_LOOP_SINT 3

#endif
