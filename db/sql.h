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

#include <cstdint>
#include <optional>
#include <string>

#include "db/database.h"

namespace db {

// A column that may be NULL, as nullopt; and a parameter that may be.
inline std::optional<std::string> nullable_string(sql::ResultSet& rs, unsigned col) {
    if (rs.isNull(col)) return std::nullopt;
    return std::string(rs.getString(col));
}
inline std::optional<int64_t> nullable_int(sql::ResultSet& rs, unsigned col) {
    if (rs.isNull(col)) return std::nullopt;
    return rs.getInt64(col);
}
inline void set_nullable(sql::PreparedStatement& ps, unsigned p, const std::optional<std::string>& v) {
    if (v) ps.setString(p, *v);
    else ps.setNull(p, sql::DataType::VARCHAR);
}
inline void set_nullable(sql::PreparedStatement& ps, unsigned p, const std::optional<int64_t>& v) {
    if (v) ps.setInt64(p, *v);
    else ps.setNull(p, sql::DataType::BIGINT);
}

}  // namespace db
