// The connector's statement and result types, for the .cpp files of db/ that run
// statements (repositories and the connection itself). Never included by a header
// that services/ or handlers/ see.
#pragma once
#include <cppconn/datatype.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>

#include "db/database.h"
