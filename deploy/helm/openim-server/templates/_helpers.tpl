{{/* Names, labels and the pieces every workload shares. */}}

{{- define "openim.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "openim.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* openim.component: "<fullname>-<program without openim->", e.g. rel-openim-server-api. */}}
{{- define "openim.component" -}}
{{- printf "%s-%s" (include "openim.fullname" .root) (trimPrefix "openim-" .program) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "openim.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "openim.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: openim
{{- end -}}

{{- define "openim.selectorLabels" -}}
app.kubernetes.io/name: {{ include "openim.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .program }}
{{- end -}}

{{- define "openim.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "openim.secretName" -}}
{{- default (printf "%s-env" (include "openim.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The programs OpenIM 3.8.3 has; values.programs must name only these. */}}
{{- define "openim.programNames" -}}
openim-api openim-crontask openim-msggateway openim-msgtransfer openim-push openim-rpc-auth openim-rpc-conversation openim-rpc-friend openim-rpc-group openim-rpc-msg openim-rpc-third openim-rpc-user
{{- end -}}

{{/* openim.configFiles: OpenIM's config files rendered by the chart, as a
     dict file name -> content (YAML text). */}}
{{- define "openim.configFiles" -}}
{{- $c := .Values.components -}}
{{- $files := dict -}}
{{- $_ := set $files "share.yml" (merge (dict "secret" "") (deepCopy .Values.openim.share)) -}}
{{- $_ := set $files "mongodb.yml" (dict "uri" $c.mongodb.uri "address" $c.mongodb.address "database" $c.mongodb.database "username" $c.mongodb.username "password" "" "authSource" $c.mongodb.authSource "maxPoolSize" $c.mongodb.maxPoolSize "maxRetry" $c.mongodb.maxRetry) -}}
{{- $_ := set $files "redis.yml" (dict "address" $c.redis.address "username" $c.redis.username "password" "" "clusterMode" $c.redis.clusterMode "db" $c.redis.db "storage" $c.redis.db "maxRetry" $c.redis.maxRetry "poolSize" $c.redis.poolSize) -}}
{{- $_ := set $files "kafka.yml" (merge (dict "password" "") (deepCopy $c.kafka)) -}}
{{- $_ := set $files "discovery.yml" (dict "enable" "etcd" "etcd" (dict "rootDirectory" $c.etcd.rootDirectory "address" $c.etcd.address "username" $c.etcd.username "password" "")) -}}
{{- $_ := set $files "minio.yml" (merge (dict "secretAccessKey" "") (deepCopy $c.minio)) -}}
{{- $_ := set $files "log.yml" .Values.openim.log -}}
{{- range $name, $p := .Values.programs -}}
{{- $_ := set $files (printf "%s.yml" $name) $p.config -}}
{{- end -}}
{{- $out := dict -}}
{{- range $name, $content := $files -}}
{{- $_ := set $out $name (toYaml $content) -}}
{{- end -}}
{{- range $name, $content := .Values.openim.extraConfigFiles -}}
{{- if kindIs "string" $content -}}
{{- $_ := set $out $name $content -}}
{{- else -}}
{{- $_ := set $out $name (toYaml $content) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* openim.supervisorConfig: the supervisor config of one pod (dict root, program, p). */}}
{{- define "openim.supervisorConfig" -}}
{{- $v := .root.Values -}}
# openim-supervisor config of a {{ .program }} pod (rendered by the openim-server chart).
version: 2
paths:
  binDir: /usr/lib/openim/bin
  openimConfigDir: /etc/openim/config
  logDir: /var/log/openim
  runtimeDir: /run/openim
  stateDir: /var/lib/openim
# Secrets come from the pod's environment (the IMENV_ Secret), not a file.
envFile: ""
defaults:
{{ toYaml $v.supervisor.defaults | indent 2 }}
# The pod runs one program; the data migration ran in the upgrade hook.
preStart: []
processes:
  - name: {{ .program }}
    instances: 1
{{- $port := include "openim.readyPort" (dict "program" .program "p" .p) }}
{{- if $port }}
    ports: [{{ $port }}]
{{- end }}
{{- with .p.ready }}
    ready:
{{ toYaml . | indent 6 }}
{{- end }}
log:
{{ toYaml $v.supervisor.log | indent 2 }}
metrics:
  listen: ""
{{- end -}}

{{/* openim.readyPort: the port the program's instance 0 listens on, for the
     supervisor's {port}: api and msggateway's client port, else rpc.ports[0]. */}}
{{- define "openim.readyPort" -}}
{{- $c := .p.config | default dict -}}
{{- if and (hasKey $c "api") (hasKey $c.api "ports") -}}
{{- first $c.api.ports -}}
{{- else if and (hasKey $c "longConnSvr") (hasKey $c.longConnSvr "ports") -}}
{{- first $c.longConnSvr.ports -}}
{{- else if and (hasKey $c "rpc") (hasKey $c.rpc "ports") -}}
{{- first $c.rpc.ports -}}
{{- end -}}
{{- end -}}

{{/* The IMENV_ variables of the chart's Secret (only non-empty ones). */}}
{{- define "openim.secretEnv" -}}
{{- $s := .Values.secrets -}}
{{- $env := dict "IMENV_SHARE_SECRET" $s.shareSecret "IMENV_MONGODB_PASSWORD" $s.mongodbPassword "IMENV_MONGODB_URI" $s.mongodbURI "IMENV_REDIS_PASSWORD" $s.redisPassword "IMENV_KAFKA_PASSWORD" $s.kafkaPassword "IMENV_DISCOVERY_ETCD_PASSWORD" $s.etcdPassword "IMENV_MINIO_SECRETACCESSKEY" $s.minioSecretAccessKey "OPENIM_MYSQL_DSN" $s.mysqlDSN -}}
{{- $out := dict -}}
{{- range $k, $v := (merge (deepCopy ($s.extra | default dict)) $env) -}}
{{- if $v -}}
{{- $_ := set $out $k (toString $v) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* Checks that fail the render with a message naming the value and the fix. */}}
{{- define "openim.validate" -}}
{{- if and (not .Values.secrets.existingSecret) (not .Values.secrets.shareSecret) -}}
{{- fail "secrets.shareSecret is empty: set it (OpenIM signs admin tokens with it; --set secrets.shareSecret=...) or name a Secret holding IMENV_SHARE_SECRET in secrets.existingSecret" -}}
{{- end -}}
{{- $known := splitList " " (include "openim.programNames" .) -}}
{{- range $name, $p := .Values.programs -}}
{{- if not (has $name $known) -}}
{{- fail (printf "programs.%s: not an OpenIM 3.8.3 program; want one of %s" $name (join ", " $known)) -}}
{{- end -}}
{{- if lt (int $p.replicas) 0 -}}
{{- fail (printf "programs.%s.replicas: %v is negative; want 0 (off) or more" $name $p.replicas) -}}
{{- end -}}
{{- end -}}
{{- range $k := keys .Values.secrets.extra -}}
{{- if not (regexMatch "^[A-Z_][A-Z0-9_]*$" $k) -}}
{{- fail (printf "secrets.extra.%s: not an environment variable name (want upper case, digits, _; e.g. IMENV_OPENIM_PUSH_GETUI_MASTERSECRET)" $k) -}}
{{- end -}}
{{- end -}}
{{- /* MongoDB credentials. Without a uri OpenIM 3.8.3 builds
     mongodb://USERNAME:PASSWORD@ADDRESS/DATABASE, and mongodb://@ADDRESS/...
     (rejected by the driver) unless both are set; the supervisor's config
     check refuses that too. The password comes from the Secret
     (IMENV_MONGODB_PASSWORD). An existing Secret is not visible here. */ -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $m := .Values.components.mongodb -}}
{{- $s := .Values.secrets -}}
{{- $x := $s.extra | default dict -}}
{{- $uri := or $m.uri $s.mongodbURI (get $x "IMENV_MONGODB_URI") -}}
{{- $user := or $m.username (get $x "IMENV_MONGODB_USERNAME") -}}
{{- $pass := or $s.mongodbPassword (get $x "IMENV_MONGODB_PASSWORD") -}}
{{- if and (not $uri) $user (not $pass) -}}
{{- fail (printf "secrets.mongodbPassword is empty but components.mongodb.username is %q: set it (--set secrets.mongodbPassword=...; the Secret gives it to OpenIM as IMENV_MONGODB_PASSWORD), or, for a MongoDB without authentication, set components.mongodb.username=\"\" and components.mongodb.uri=mongodb://HOST:PORT/DATABASE" $user) -}}
{{- end -}}
{{- if and (not $uri) (not $user) -}}
{{- fail "components.mongodb: no uri and no username: OpenIM 3.8.3 would connect to mongodb://@ADDRESS/..., which the MongoDB driver rejects; for a MongoDB without authentication set components.mongodb.uri=mongodb://HOST:PORT/DATABASE, else set components.mongodb.username and secrets.mongodbPassword" -}}
{{- end -}}
{{- end -}}
{{- end -}}
