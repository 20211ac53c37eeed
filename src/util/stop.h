// Stopping a live run cleanly: SIGINT and SIGTERM set a flag that the
// reading loop checks, so open traces are flushed and the summary printed.
#pragma once

namespace ta {

// Installs handlers for SIGINT and SIGTERM and makes reads of stdin and
// files wake up now and then to look at the flag.
void install_stop_handlers();
bool stop_requested();
void request_stop();  // as if a signal came (tests)

// True once install_stop_handlers ran: reads wait in poll() for at most a
// fraction of a second at a time, and give up when a stop is requested.
bool interruptible_reads();

}  // namespace ta
