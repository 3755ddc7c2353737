#include "pools.h"

namespace rbdfn {

void ListPoolsWorker::Run() {
  const char* cmd[] = {R"({"prefix": "osd pool ls", "detail": "detail", "format": "json"})"};
  char* out = nullptr;
  size_t out_len = 0;
  char* status = nullptr;
  size_t status_len = 0;
  int r = rados_mon_command(state_->cluster(), cmd, 1, "", 0, &out, &out_len, &status, &status_len);
  if (r >= 0) json_.assign(out, out_len);
  rados_buffer_free(out);
  rados_buffer_free(status);
  if (r < 0) Fail(r, "rados_mon_command");
}

Napi::Value ListPoolsWorker::Result(Napi::Env env) { return Napi::String::New(env, json_); }

}  // namespace rbdfn
