#include "tmplfuncs/functions.h"

#include <gtest/gtest.h>

#include "tmplfuncs/fake_source.h"
#include "tmplfuncs/functions_test_util.h"

namespace autopilot::tmplfuncs {
namespace {

using discovery::Instance;
using discovery::KvEntry;
using discovery::Status;

Instance instance(std::string id, std::string address, int port, std::vector<std::string> tags, Status status,
                  std::string node, std::map<std::string, std::string> meta = {}) {
  Instance i;
  i.id = std::move(id);
  i.name = "web";
  i.address = std::move(address);
  i.port = port;
  i.tags = std::move(tags);
  i.status = status;
  i.node = std::move(node);
  i.meta = std::move(meta);
  return i;
}

class DataFunctions : public testing::FunctionsTest {
 protected:
  void SetUp() override {
    source.instances["web"] = {
        instance("web-2", "10.0.0.2", 8080, {"green"}, Status::kWarning, "n2"),
        instance("web-3", "10.0.0.3", 8081, {"blue"}, Status::kCritical, "n1"),
        instance("web-1", "10.0.0.1", 8080, {"v1", "blue"}, Status::kPassing, "n1", {{"env", "prod"}}),
        instance("web-4", "10.0.0.4", 8082, {}, Status::kMaintenance, "n3"),
    };
    source.instances["api"] = {instance("api-1", "10.0.1.1", 9000, {}, Status::kPassing, "n1")};
    source.instances["api"][0].name = "api";
    source.kv_entries = {
        {"app/config/port", "8080", 3, 5},
        {"app/config/db/host", "db1", 4, 4},
        {"app/config/db/", "", 2, 2},
        {"app/configx", "no", 6, 6},
        {"app/name", "demo", 7, 7},
        {"app/empty", "", 8, 8},
        {"top", "t", 1, 1},
    };
  }
};

TEST_F(DataFunctions, ServiceWithoutFilterListsHealthyInstancesByNodeThenId) {
  EXPECT_EQ(render("{{ range service \"web\" }}{{ .ID }} {{ end }}"), "web-1 web-2 ");
}

TEST_F(DataFunctions, ServiceFilters) {
  EXPECT_EQ(render("{{ range service \"web|any\" }}{{ .ID }} {{ end }}"), "web-1 web-3 web-2 web-4 ");
  EXPECT_EQ(render("{{ range service \"web\" \"any\" }}{{ .ID }} {{ end }}"), "web-1 web-3 web-2 web-4 ");
  EXPECT_EQ(render("{{ range service \"web|passing,warning\" }}{{ .ID }} {{ end }}"), "web-1 web-2 ");
  EXPECT_EQ(render("{{ range service \"web|passing\" }}{{ .ID }} {{ end }}"), "web-1 ");
  EXPECT_EQ(render("{{ range service \"web|critical\" }}{{ .ID }}:{{ .Status }} {{ end }}"), "web-3:critical ");
  EXPECT_EQ(render("{{ range service \"web\" \"maintenance\" }}{{ .ID }}:{{ .Status }} {{ end }}"),
            "web-4:maintenance ");
}

TEST_F(DataFunctions, ServiceTagQuery) {
  EXPECT_EQ(render("{{ range service \"blue.web\" }}{{ .ID }} {{ end }}"), "web-1 ");
  EXPECT_EQ(render("{{ range service \"blue.web|any\" }}{{ .ID }} {{ end }}"), "web-1 web-3 ");
  ASSERT_FALSE(source.service_reads.empty());
  EXPECT_EQ(source.service_reads.back().tag, "blue");
  EXPECT_EQ(render("{{ range service \"red.web\" }}{{ .ID }} {{ end }}"), "");
}

TEST_F(DataFunctions, InstanceFields) {
  EXPECT_EQ(render("{{ with index (service \"web\") 0 }}{{ .ID }}|{{ .Name }}|{{ .Address }}|{{ .Port }}|{{ .Tags }}|"
                   "{{ .Meta.env }}|{{ .ServiceMeta.env }}|{{ .Status }}|{{ .Node }}|{{ .NodeAddress }}|"
                   "{{ len .NodeMeta }}|{{ len .NodeTaggedAddresses }}{{ end }}"),
            "web-1|web|10.0.0.1|8080|[blue v1]|prod|prod|passing|n1|10.0.0.1|0|0");
  EXPECT_EQ(render("{{ with index (service \"web\") 0 }}{{ printf \"%T %T %T\" . .Port .Meta }}{{ end }}"),
            "*dependency.HealthService int map[string]string");
  EXPECT_EQ(render("{{ with index (service \"web\") 0 }}{{ . }}{{ end }}"), "&{web-1 web 10.0.0.1 8080}");
  EXPECT_EQ(render("{{ range service \"web\" }}{{ add 1 .Port }} {{ end }}"), "8081 8081 ");
  EXPECT_EQ(render("{{ range service \"web\" }}{{ .Meta.missing }}{{ end }}"), "<no value><no value>");
  EXPECT_EQ(render("{{ range service \"web\" }}{{ .NodeID }}{{ end }}"),
            "EXEC: can't evaluate field NodeID in type *dependency.HealthService");
}

TEST_F(DataFunctions, IfAndRangeGuards) {
  EXPECT_EQ(render("{{ if service \"web\" }}yes{{ else }}no{{ end }}"), "yes");
  EXPECT_EQ(render("{{ if service \"web|critical\" }}yes{{ else }}no{{ end }}"), "yes");
  EXPECT_EQ(render("{{ range service \"web\" }}{{ .Address }}:{{ .Port }} {{ end }}"), "10.0.0.1:8080 10.0.0.2:8080 ");
  EXPECT_EQ(render("{{ range service \"api\" }}{{ .Address }}:{{ .Port }}{{ else }}none{{ end }}"), "10.0.1.1:9000");
  EXPECT_EQ(render("{{ service \"\" | len }}"), "0");
}

TEST_F(DataFunctions, NotLoadedDataRendersEmptyAndCountsMisses) {
  EXPECT_EQ(render("{{ if service \"db\" }}yes{{ else }}no{{ end }}|{{ range service \"db\" }}x{{ end }}|"
                   "{{ len (service \"db\") }}"),
            "no||0");
  EXPECT_EQ(source.misses, 3);
  source.services_loaded = false;
  source.kv_loaded = false;
  source.misses = 0;
  EXPECT_EQ(render("[{{ key \"app/name\" }}][{{ keyExists \"app/name\" }}][{{ keyOrDefault \"app/name\" \"d\" }}]"
                   "[{{ len (ls \"app\") }}][{{ len (tree \"app\") }}][{{ len services }}]"),
            "[][false][d][0][0][0]");
  EXPECT_EQ(source.misses, 6);
}

TEST_F(DataFunctions, Services) {
  // Each service's tags: those of all its instances, whatever their status, each once, sorted.
  EXPECT_EQ(render("{{ range services }}{{ .Name }}:{{ .Tags }}:{{ len .Tags }} {{ end }}"),
            "api:[]:0 web:[blue green v1]:3 ");
  EXPECT_EQ(render("{{ range services }}{{ . }} {{ end }}"), "&{api []} &{web [blue green v1]} ");
  EXPECT_EQ(render("{{ range services }}{{ if .Tags | contains \"blue\" }}{{ .Name }}{{ end }}{{ end }}"), "web");
  EXPECT_EQ(render("{{ services 1 }}"),
            "EXEC: error calling services: wrong number of args for services: want 0 got 1");
}

TEST_F(DataFunctions, ByTagGroupsInstancesUnderEachTagSorted) {
  EXPECT_EQ(render("{{ range $tag, $s := service \"web|any\" | byTag }}{{ $tag }}={{ range $s }}{{ .ID }},{{ end }};"
                   "{{ end }}"),
            "blue=web-1,web-3,;green=web-2,;v1=web-1,;");
  EXPECT_EQ(render("{{ len (service \"db\" | byTag) }}"), "0");
  EXPECT_EQ(render("{{ byTag \"x\" }}"), "EXEC: error calling byTag: byTag: wrong argument type string");
}

TEST_F(DataFunctions, Key) {
  EXPECT_EQ(render("{{ key \"app/name\" }}|{{ key \"/app/name\" }}|{{ key \"app/config\" }}|{{ key \"app/nope\" }}|"),
            "demo|demo|||");
  EXPECT_EQ(source.kv_reads.front(), "app/name");
  EXPECT_EQ(render("{{ keyExists \"app/name\" }} {{ keyExists \"app/config\" }} {{ keyExists \"app/empty\" }}"),
            "true false true");
  EXPECT_EQ(render("{{ keyOrDefault \"app/name\" \"d\" }} {{ keyOrDefault \"app/empty\" \"d\" }} "
                   "{{ keyOrDefault \"app/nope\" \"d\" }}"),
            "demo d d");
}

TEST_F(DataFunctions, KeyOrDefaultKeepsItsOldNameKeyOrDefaultWithUnderscores) {
  EXPECT_EQ(render("{{ key_or_default \"app/name\" \"d\" }} {{ key_or_default \"app/empty\" \"d\" }} "
                   "{{ key_or_default \"app/nope\" \"d\" }}"),
            "demo d d");
  EXPECT_EQ(render("{{ key_or_default \"app/name\" }}"),
            "EXEC: error calling key_or_default: wrong number of args for key_or_default: want 2 got 1");
}

TEST_F(DataFunctions, LsListsDirectChildrenOfTheFolder) {
  EXPECT_EQ(render("{{ range ls \"app/config\" }}{{ .Key }}={{ .Value }};{{ end }}"), "port=8080;");
  EXPECT_EQ(source.kv_reads.back(), "app/config/");
  EXPECT_EQ(render("{{ range ls \"app/config/\" }}{{ .Key }}={{ .Value }};{{ end }}"), "port=8080;");
  EXPECT_EQ(render("{{ range ls \"app\" }}{{ .Key }}={{ .Value }};{{ end }}"), "configx=no;empty=;name=demo;");
  EXPECT_EQ(render("{{ range ls \"/\" }}{{ .Key }}={{ .Value }};{{ end }}"), "top=t;");
  EXPECT_EQ(render("{{ len (ls \"\") }}"), "0");
  EXPECT_EQ(render("{{ index (ls \"app/config\") 0 }}"), "&{app/config/port port 8080 3 5 0 0 }");
  EXPECT_EQ(render("{{ printf \"%T\" (index (ls \"app/config\") 0) }}"), "*dependency.KeyPair");
}

TEST_F(DataFunctions, TreeListsEverythingBelowTheFolder) {
  EXPECT_EQ(render("{{ range tree \"app/config\" }}{{ .Key }}|{{ .Path }}|{{ .Value }}|{{ .CreateIndex }}|"
                   "{{ .ModifyIndex }}|{{ .LockIndex }}|{{ .Flags }}|{{ .Session }};{{ end }}"),
            "db/host|app/config/db/host|db1|4|4|0|0|;port|app/config/port|8080|3|5|0|0|;");
}

TEST_F(DataFunctions, ByKeyGroupsPairsByTopFolder) {
  EXPECT_EQ(
      render("{{ range $dir, $pairs := tree \"app\" | byKey }}{{ $dir }}:"
             "{{ range $k, $p := $pairs }}{{ $k }}={{ $p.Key }}={{ $p.Path }}={{ $p.Value }},{{ end }};{{ end }}"),
      "config:db/host=db/host=app/config/db/host=db1,port=port=app/config/port=8080,;");
  EXPECT_EQ(render("{{ service \"web\" | byKey }}"),
            "EXEC: error calling byKey: byKey: wrong argument type: *dependency.HealthService is not a KV pair");
}

TEST_F(DataFunctions, EnvAndFile) {
  source.env_vars = {{"SET", "x"}, {"EMPTY", ""}};
  source.files = {{"/etc/motd", "hello\n"}};
  EXPECT_EQ(render("[{{ env \"SET\" }}][{{ env \"EMPTY\" }}][{{ env \"UNSET\" }}]"), "[x][][]");
  EXPECT_EQ(render("[{{ envOrDefault \"SET\" \"d\" }}][{{ envOrDefault \"EMPTY\" \"d\" }}]"
                   "[{{ envOrDefault \"UNSET\" \"d\" }}]"),
            "[x][][d]");
  EXPECT_EQ(render("{{ mustEnv \"SET\" }}"), "x");
  EXPECT_EQ(render("{{ mustEnv \"EMPTY\" }}"),
            "EXEC: error calling mustEnv: mustEnv: required environment variable EMPTY is empty");
  EXPECT_EQ(render("{{ mustEnv \"UNSET\" }}"),
            "EXEC: error calling mustEnv: mustEnv: required environment variable UNSET is empty");
  EXPECT_EQ(render("{{ file \"/etc/motd\" }}"), "hello\n");
  EXPECT_EQ(render("{{ file \"/nope\" }}"), "EXEC: error calling file: file: open /nope: no such file or directory");
}

TEST_F(DataFunctions, ServicesAsJson) {
  source.instances["web"].resize(3);  // web-2, web-3, web-1: only web-1 and web-2 are healthy
  source.instances["web"][1].meta = {{"a<b", "x&y"}};
  EXPECT_EQ(render("{{ service \"blue.web\" | toJSON }}"),
            R"([{"Node":"n1","NodeAddress":"10.0.0.1","NodeTaggedAddresses":{},"NodeMeta":{},)"
            R"("ServiceMeta":{"env":"prod"},"Address":"10.0.0.1","ID":"web-1","Name":"web","Tags":["blue","v1"],)"
            R"("Status":"passing","Port":8080}])");
  EXPECT_EQ(render("{{ service \"web|critical\" | toJSON }}"),
            R"([{"Node":"n1","NodeAddress":"10.0.0.3","NodeTaggedAddresses":{},"NodeMeta":{},)"
            R"("ServiceMeta":{"a\u003cb":"x\u0026y"},"Address":"10.0.0.3","ID":"web-3","Name":"web","Tags":["blue"],)"
            R"("Status":"critical","Port":8081}])");
  EXPECT_EQ(render("{{ ls \"app/config\" | toJSON }}"),
            R"([{"Path":"app/config/port","Key":"port","Value":"8080","CreateIndex":3,"ModifyIndex":5,)"
            R"("LockIndex":0,"Flags":0,"Session":""}])");
}

TEST_F(DataFunctions, ErrorsNameTheFunction) {
  EXPECT_EQ(render("{{ service \"x|bogus\" }}"),
            "EXEC: error calling service: service \"x|bogus\": invalid filter \"bogus\" (any, passing, warning, "
            "critical, maintenance)");
  EXPECT_EQ(render("{{ service \"a\" \"b\" \"c\" }}"),
            "EXEC: error calling service: service: want 1 or 2 arguments, got 3");
  EXPECT_EQ(render("{{ key }}"), "EXEC: error calling key: wrong number of args for key: want 1 got 0");
  EXPECT_EQ(render("{{ nodes }}"), "PARSE: function \"nodes\" not defined");
  // An invalid key is the template's error, named as such (not "the catalog is unavailable").
  EXPECT_EQ(render("{{ key \"../../x\" }}"),
            "EXEC: error calling key: invalid key \"../../x\": '.' or '..' path segment");
  EXPECT_EQ(render("{{ ls \"a/../b\" }}"),
            "EXEC: error calling ls: invalid key \"a/../b/\": '.' or '..' path segment");
  EXPECT_TRUE(source.kv_reads.empty()) << "nothing asked of the catalog";
}

TEST_F(DataFunctions, OutputIsDeterministic) {
  const char* text =
      "{{ range $t, $s := service \"web|any\" | byTag }}{{ $t }}{{ range $s }} {{ .ID }}{{ .Meta }}{{ end }};{{ end }}"
      "{{ range tree \"app\" }}{{ .Key }};{{ end }}{{ service \"web\" | toJSON }}";
  std::string first = render(text);
  std::reverse(source.instances["web"].begin(), source.instances["web"].end());
  std::reverse(source.kv_entries.begin(), source.kv_entries.end());
  EXPECT_EQ(render(text), first);
}

// The nginx upstream of ContainerPilot setups: the `if` keeps an empty
// upstream (which nginx refuses) out of the file.
class NginxUpstream : public testing::FunctionsTest {
 protected:
  static constexpr const char* kTemplate =
      "{{ if service \"app\" }}upstream app {\n"
      "  ip_hash;{{ range service \"app\" }}\n"
      "  server {{ .Address }}:{{ .Port }};{{ end }}\n"
      "}{{ end }}";

  void set_instances(int n) {
    auto& list = source.instances["app"];
    list.clear();
    for (int i = 1; i <= n; ++i) {
      Instance a = instance("app-" + std::to_string(i), "10.0.0." + std::to_string(i), 8000 + i, {}, Status::kPassing,
                            "node" + std::to_string(i));
      a.name = "app";
      list.push_back(a);
    }
  }
};

TEST_F(NginxUpstream, NoInstances) {
  set_instances(0);
  EXPECT_EQ(render(kTemplate), "");
}

TEST_F(NginxUpstream, OneInstance) {
  set_instances(1);
  EXPECT_EQ(render(kTemplate),
            "upstream app {\n"
            "  ip_hash;\n"
            "  server 10.0.0.1:8001;\n"
            "}");
}

TEST_F(NginxUpstream, ThreeInstances) {
  set_instances(3);
  source.instances["app"][1].status = Status::kWarning;  // still healthy
  EXPECT_EQ(render(kTemplate),
            "upstream app {\n"
            "  ip_hash;\n"
            "  server 10.0.0.1:8001;\n"
            "  server 10.0.0.2:8002;\n"
            "  server 10.0.0.3:8003;\n"
            "}");
  source.instances["app"][2].status = Status::kCritical;  // dropped
  EXPECT_EQ(render(kTemplate),
            "upstream app {\n"
            "  ip_hash;\n"
            "  server 10.0.0.1:8001;\n"
            "  server 10.0.0.2:8002;\n"
            "}");
}

TEST_F(NginxUpstream, NotLoadedYet) {
  EXPECT_EQ(render(kTemplate), "");
  EXPECT_EQ(source.misses, 1);
}

}  // namespace
}  // namespace autopilot::tmplfuncs
