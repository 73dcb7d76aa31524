// The part of Apache Aurora's scheduler API (api.thrift, rel/0.22.0) that heronfs and the
// test rig use. Written for the rig from the field tables in reference/aurora.md §3: every
// struct, field id, type and enum value below is Aurora's, so that what Apache Thrift's
// Python library encodes from this file is byte-compatible with a real scheduler. Fields and
// types the rig never touches are left out; Thrift readers skip unknown field ids, so a
// request carrying them still decodes.
//
// Compiled at test time by rig.aurora_thrift (thrift --gen py) into tests/rig/gen/.

namespace py aurora_api

enum ResponseCode {
  INVALID_REQUEST = 0,
  OK = 1,
  ERROR = 2,
  WARNING = 3,
  AUTH_FAILED = 4,
  JOB_UPDATING_ERROR = 5,
  ERROR_TRANSIENT = 6
}

enum ScheduleStatus {
  PENDING = 0,
  STARTING = 1,
  RUNNING = 2,
  FINISHED = 3,
  FAILED = 4,
  KILLED = 5,
  KILLING = 6,
  LOST = 7,
  ASSIGNED = 9,
  INIT = 11,
  RESTARTING = 12,
  PREEMPTING = 13,
  THROTTLED = 16,
  DRAINING = 17,
  PARTITIONED = 18
}

enum CronCollisionPolicy {
  KILL_EXISTING = 0,
  CANCEL_NEW = 1,
  RUN_OVERLAP = 2
}

const string AURORA_EXECUTOR_NAME = "AuroraExecutor"

const set<ScheduleStatus> ACTIVE_STATES = [
  ScheduleStatus.ASSIGNED, ScheduleStatus.DRAINING, ScheduleStatus.KILLING,
  ScheduleStatus.PARTITIONED, ScheduleStatus.PENDING, ScheduleStatus.PREEMPTING,
  ScheduleStatus.RESTARTING, ScheduleStatus.RUNNING, ScheduleStatus.STARTING,
  ScheduleStatus.THROTTLED ]

const set<ScheduleStatus> SLAVE_ASSIGNED_STATES = [
  ScheduleStatus.ASSIGNED, ScheduleStatus.DRAINING, ScheduleStatus.KILLING,
  ScheduleStatus.PARTITIONED, ScheduleStatus.PREEMPTING, ScheduleStatus.RESTARTING,
  ScheduleStatus.RUNNING, ScheduleStatus.STARTING ]

const set<ScheduleStatus> LIVE_STATES = [
  ScheduleStatus.KILLING, ScheduleStatus.PARTITIONED, ScheduleStatus.PREEMPTING,
  ScheduleStatus.RESTARTING, ScheduleStatus.DRAINING, ScheduleStatus.RUNNING ]

const set<ScheduleStatus> TERMINAL_STATES = [
  ScheduleStatus.FAILED, ScheduleStatus.FINISHED, ScheduleStatus.KILLED, ScheduleStatus.LOST ]

// Field 1 (role) was removed from Identity long ago; only the user remains.
struct Identity {
  2: string user
}

struct JobKey {
  1: string role
  2: string environment
  3: string name
}

struct InstanceKey {
  1: JobKey jobKey
  2: i32 instanceId
}

struct Metadata {
  1: string key
  2: string value
}

union Resource {
  1: double numCpus
  2: i64 ramMb
  3: i64 diskMb
  4: string namedPort
  5: i64 numGpus
}

struct ExecutorConfig {
  1: string name
  2: string data
}

// image (1) and volumes (2) are not modelled: the rig only runs plain Mesos containers.
struct MesosContainer {
}

struct DockerParameter {
  1: string name
  2: string value
}

struct DockerContainer {
  1: string image
  2: optional list<DockerParameter> parameters
}

union Container {
  1: MesosContainer mesos
  2: DockerContainer docker
}

struct ValueConstraint {
  1: bool negated
  2: set<string> values
}

struct LimitConstraint {
  1: i32 limit
}

union TaskConstraint {
  1: ValueConstraint value
  2: LimitConstraint limit
}

struct Constraint {
  1: string name
  2: TaskConstraint constraint
}

// Not modelled: 33 mesosFetcherUris, 34 partitionPolicy, 35 slaPolicy.
struct TaskConfig {
  28: JobKey job
  17: Identity owner
  7: bool isService
  11: i32 priority
  13: i32 maxTaskFailures
  18: optional bool production
  30: optional string tier
  32: set<Resource> resources
  20: set<Constraint> constraints
  22: optional map<string, string> taskLinks
  23: optional string contactEmail
  25: optional ExecutorConfig executorConfig
  27: optional set<Metadata> metadata
  29: Container container
}

struct JobConfiguration {
  9: JobKey key
  7: Identity owner
  4: string cronSchedule
  5: CronCollisionPolicy cronCollisionPolicy
  6: TaskConfig taskConfig
  8: i32 instanceCount
}

struct TaskEvent {
  1: i64 timestamp
  2: ScheduleStatus status
  3: optional string message
  4: optional string scheduler
}

struct AssignedTask {
  1: string taskId
  2: string slaveId
  3: string slaveHost
  4: TaskConfig task
  5: map<string, i32> assignedPorts
  6: i32 instanceId
}

struct ScheduledTask {
  1: AssignedTask assignedTask
  2: ScheduleStatus status
  3: i32 failureCount
  6: i32 timesPartitioned
  4: list<TaskEvent> taskEvents
  5: string ancestorId
}

struct TaskQuery {
  14: optional string role
  9: optional string environment
  2: optional string jobName
  4: optional set<string> taskIds
  5: optional set<ScheduleStatus> statuses
  7: optional set<i32> instanceIds
  10: optional set<string> slaveHosts
  11: optional set<JobKey> jobKeys
  12: optional i32 offset
  13: optional i32 limit
}

struct JobStats {
  1: i32 activeTaskCount
  2: i32 finishedTaskCount
  3: i32 failedTaskCount
  4: i32 pendingTaskCount
}

struct JobSummary {
  1: JobConfiguration job
  2: JobStats stats
  3: optional i64 nextCronRunMs
}

struct RoleSummary {
  1: string role
  2: i32 jobCount
  3: i32 cronJobCount
}

struct TierConfig {
  1: string name
  2: map<string, string> settings
}

struct ScheduleStatusResult {
  1: list<ScheduledTask> tasks
}

struct GetJobsResult {
  1: set<JobConfiguration> configs
}

struct RoleSummaryResult {
  1: set<RoleSummary> summaries
}

struct JobSummaryResult {
  1: set<JobSummary> summaries
}

struct GetTierConfigResult {
  1: string defaultTierName
  2: set<TierConfig> tiers
}

// Only the members the rig answers with; the other ids (1, 5-11, 20-26) are not modelled.
union Result {
  3: ScheduleStatusResult scheduleStatusResult
  4: GetJobsResult getJobsResult
  17: RoleSummaryResult roleSummaryResult
  18: JobSummaryResult jobSummaryResult
  27: GetTierConfigResult getTierConfigResult
}

struct ResponseDetail {
  1: string message
}

struct ServerInfo {
  1: string clusterName
  3: string statsUrlPrefix
}

struct Response {
  1: ResponseCode responseCode
  5: ServerInfo serverInfo
  3: optional Result result
  6: list<ResponseDetail> details
}

// Aurora splits these over ReadOnlyScheduler <- AuroraSchedulerManager <- AuroraAdmin; the
// split does not show on the wire (no multiplexing), so one service holds them here.
service AuroraAdmin {
  Response getRoleSummary()
  Response getJobSummary(1: string role)
  Response getTasksStatus(1: TaskQuery query)
  Response getTasksWithoutConfigs(1: TaskQuery query)
  Response getJobs(1: string ownerRole)
  Response getTierConfigs()
  Response createJob(1: JobConfiguration description)
  Response killTasks(4: JobKey job, 5: set<i32> instances, 6: string message)
  Response restartShards(5: JobKey job, 3: set<i32> shardIds)
  Response addInstances(3: InstanceKey key, 4: i32 count)
}
