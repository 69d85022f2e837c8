// The storage error the services let through to the request boundary (handlers'
// error translation maps it to problem+json by kind): db::Error under the services'
// name, so the handlers need no db/ header.
#pragma once
#include "db/error.h"

namespace services {

using StorageError = db::Error;
using StorageErrorKind = db::ErrorKind;

}  // namespace services
