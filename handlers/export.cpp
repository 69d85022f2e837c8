#include "handlers/export.h"

#include <memory>

#include "core/api_error.h"
#include "services/export_service.h"

namespace handlers {

core::Response dataexport_csv(Context& ctx, core::Request&) {
    // Shared with the body writer, which runs after this returns; the snapshot is
    // abandoned when the response is dropped without being written (HEAD).
    std::shared_ptr<services::CsvExport> exp = ctx.exports().begin_csv();
    core::Response r;
    r.content_type = "application/zip";
    r.add_header("Content-Disposition", "attachment; filename=\"" + exp->file_name() + "\"");
    r.add_header("Cache-Control", "no-store");
    // Honoured by nginx even where the site's location does not switch buffering off.
    r.add_header("X-Accel-Buffering", "no");
    r.body_writer = [exp](const core::BodySink& sink) { exp->write_zip(sink); };
    return r;
}

core::Response dataexport_parquet(Context&, core::Request&) {
    throw core::ApiError::not_implemented(
        "Parquet export is not available on this server; GET /dataexport/csv exports the same data "
        "as a ZIP of CSV files, one per form type");
}

}  // namespace handlers
