// LeakSanitizer for processes that end with _exit(), as forked FastCGI workers do:
// _exit skips the exit-time leak check, so a worker's leaks would never be seen.
// A no-op unless built with AddressSanitizer (make test-sanitize).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define SYNKRONUS_LEAK_CHECK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SYNKRONUS_LEAK_CHECK 1
#endif
#endif

#ifdef SYNKRONUS_LEAK_CHECK
#include <sanitizer/lsan_interface.h>
#endif

namespace core {

// Reports leaks now and ends the process if there are any (LSan's exit code).
inline void leak_check_before_exit() {
#ifdef SYNKRONUS_LEAK_CHECK
    __lsan_do_leak_check();
#endif
}

}  // namespace core
