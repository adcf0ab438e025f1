using System.Text.Json.Nodes;

namespace Mage.Infra.Tests.Bicep;

/// <summary>Assertions on the ARM JSON compiled from infra/bicep/main.bicep.</summary>
public sealed class MainTemplateTests(CompiledMainFixture fixture) : IClassFixture<CompiledMainFixture>
{
    // Built-in role definition ids (Azure built-in roles reference).
    private static readonly Dictionary<string, string> KnownRoles = new(StringComparer.Ordinal)
    {
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"] = "Storage Blob Data Reader",
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"] = "Storage Table Data Contributor",
        ["69a216fc-b8fb-44d8-bc22-1f3c2cd27a39"] = "Azure Service Bus Data Sender",
        ["4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0"] = "Azure Service Bus Data Receiver",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    private ArmTemplate Template => fixture.Template;

    private ArmResource App => Template.Single("Microsoft.App/containerApps");

    private JsonArray AppEnv => (JsonArray)App.Properties!["template"]!["containers"]![0]!["env"]!;

    private Dictionary<string, JsonObject> AppEnvByName =>
        AppEnv.OfType<JsonObject>().ToDictionary(e => (string)e["name"]!, StringComparer.Ordinal);

    [Fact]
    public void Main_deploys_at_subscription_scope_and_creates_the_resource_group()
    {
        Assert.Contains("subscriptionDeploymentTemplate", (string)Template.Root["$schema"]!, StringComparison.Ordinal);
        Template.Single("Microsoft.Resources/resourceGroups");
    }

    [Fact]
    public void Storage_accounts_are_entra_only_with_no_anonymous_blob_access_tls12_and_https_only()
    {
        // This checks anonymous (public) blob access only; network access is not restricted
        // (no networkAcls or private endpoints: the Functions app reaches storage over its
        // public endpoint with Entra tokens). Both accounts (host and data) come from one module.
        var accounts = Template.OfType("Microsoft.Storage/storageAccounts").ToList();
        Assert.Equal(["hoststorage-account", "storage-account"], accounts.Select(a => a.Module).Order(StringComparer.Ordinal));
        foreach (var properties in accounts.Select(a => a.Properties!))
        {
            Assert.False((bool)properties["allowSharedKeyAccess"]!);
            Assert.False((bool)properties["allowBlobPublicAccess"]!);
            Assert.Equal("TLS1_2", (string)properties["minimumTlsVersion"]!);
            Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        }

        var containers = Template.Single("Microsoft.Storage/storageAccounts/blobServices/containers").Properties!;
        Assert.Equal("None", (string)containers["publicAccess"]!);
    }

    [Fact]
    public void No_account_keys_or_sas_anywhere_in_the_template()
    {
        foreach (var forbidden in new[] { "AccountKey=", "SharedAccessKey", "listKeys(", "listKeys'", "primarySharedKey" })
        {
            Assert.DoesNotContain(forbidden, Template.Text, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void Service_bus_disables_local_auth_and_has_the_events_topic_and_a_subscription()
    {
        Assert.True((bool)Template.Single("Microsoft.ServiceBus/namespaces").Properties!["disableLocalAuth"]!);
        var servicebus = Template.Module("servicebus");
        Assert.Equal((string)fixture.Contract["topic"]!, (string)Template.MainVariable("contract")!["topic"]!);
        Assert.Equal("[variables('contract').topic]", (string)servicebus.ModuleParameter("topicName")!);
        Template.Single("Microsoft.ServiceBus/namespaces/topics");
        Template.Single("Microsoft.ServiceBus/namespaces/topics/subscriptions");
    }

    [Fact]
    public void Service_bus_topic_drops_duplicate_event_ids_on_a_tier_that_supports_it()
    {
        // Event ids are deterministic (MageEvent.Create) and are the message id, so a republished
        // completion is dropped within the window. Basic has no duplicate detection.
        var topic = Template.Single("Microsoft.ServiceBus/namespaces/topics").Properties!;
        Assert.True((bool)topic["requiresDuplicateDetection"]!);
        Assert.Equal("PT1H", (string)topic["duplicateDetectionHistoryTimeWindow"]!);
        var sku = (string)Template.Single("Microsoft.ServiceBus/namespaces").Node["sku"]!["tier"]!;
        Assert.Contains(sku, new[] { "Standard", "Premium" });
    }

    [Fact]
    public void Registry_has_admin_user_off()
    {
        Assert.False((bool)Template.Single("Microsoft.ContainerRegistry/registries").Properties!["adminUserEnabled"]!);
    }

    [Fact]
    public void Gpu_profile_type_is_a_parameter_with_t4_default_and_a100_allowed()
    {
        var parameter = (JsonObject)Template.Root["parameters"]!["gpuProfileType"]!;
        Assert.Equal("Consumption-GPU-NC8as-T4", (string)parameter["defaultValue"]!);
        var allowed = parameter["allowedValues"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Equal(["Consumption-GPU-NC8as-T4", "Consumption-GPU-NC24-A100"], allowed);
    }

    [Fact]
    public void Environment_has_consumption_and_the_parameterised_gpu_profile()
    {
        // Which profiles a deployment gets (none but Consumption for computeProfile cpu): ComputeProfileTests.
        var module = Template.Module("environment");
        Assert.Equal("[parameters('gpuProfileType')]", (string)module.ModuleParameter("gpuProfileType")!);
    }

    [Fact]
    public void Functions_app_is_kind_functionapp_on_the_gpu_profile_with_the_identity()
    {
        Assert.Equal("functionapp", (string)App.Node["kind"]!);
        Assert.Equal("[parameters('workloadProfileName')]", (string)App.Properties!["workloadProfileName"]!);
        // Which profile the app lands on for each computeProfile: ComputeProfileTests.

        Assert.Equal("UserAssigned", (string)App.Node["identity"]!["type"]!);
        var registry = Assert.Single(App.Properties!["configuration"]!["registries"]!.AsArray());
        Assert.Equal("[parameters('identityId')]", (string)registry!["identity"]!);
        Assert.Null(registry["passwordSecretRef"]);
    }

    [Fact]
    public void Functions_app_has_no_scale_rules_and_parameterised_replicas_allowing_zero()
    {
        var scale = App.Properties!["template"]!["scale"]!.AsObject();
        Assert.False(scale.ContainsKey("rules"), "Scale rules are derived by the platform for kind functionapp.");
        Assert.Equal("[parameters('minReplicas')]", (string)scale["minReplicas"]!);
        Assert.Equal("[parameters('maxReplicas')]", (string)scale["maxReplicas"]!);

        var min = (JsonObject)Template.Root["parameters"]!["minReplicas"]!;
        Assert.Equal(0, (int)min["minValue"]!);
        Assert.Equal(0, (int)min["defaultValue"]!);
        Assert.NotNull(Template.Root["parameters"]!["maxReplicas"]);
        var module = Template.Module("functionapp");
        Assert.Equal("[parameters('minReplicas')]", (string)module.ModuleParameter("minReplicas")!);
        Assert.Equal("[parameters('maxReplicas')]", (string)module.ModuleParameter("maxReplicas")!);
    }

    [Fact]
    public void Azd_parameters_file_maps_replicas_with_defaults_equal_to_the_template_defaults()
    {
        var file = (JsonObject)JsonNode.Parse(File.ReadAllText(RepoPaths.Full("infra/bicep/main.parameters.json")))!;
        var mapped = file["parameters"]!.AsObject();
        var declared = Template.Root["parameters"]!.AsObject();
        foreach (var (name, _) in mapped)
        {
            Assert.True(declared.ContainsKey(name), $"main.parameters.json maps {name}, which main.bicep does not declare.");
        }

        foreach (var (name, variable) in new[] { ("minReplicas", "MAGE_MIN_REPLICAS"), ("maxReplicas", "MAGE_MAX_REPLICAS") })
        {
            var defaultValue = (int)declared[name]!["defaultValue"]!;
            Assert.Equal($"${{{variable}={defaultValue}}}", (string)mapped[name]!["value"]!);
        }
    }

    [Fact]
    public void App_env_is_exactly_the_settings_contract()
    {
        var names = AppEnv.Select(e => (string)e!["name"]!).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(fixture.ContractSettings.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Connections_are_identity_based_with_the_user_assigned_client_id()
    {
        var env = AppEnvByName;
        var credentials = env.Where(e => e.Key.EndsWith("__credential", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, credentials.Count);
        Assert.All(credentials, e => Assert.Equal("managedidentity", (string)e.Value["value"]!));
        // Host storage and Mage's data are different accounts (StorageAccessTests).
        foreach (var (prefix, account) in new[] { ("AzureWebJobsStorage", "host"), ("MageStorage", "data") })
        {
            Assert.Equal("[parameters('identityClientId')]", (string)env[$"{prefix}__clientId"]["value"]!);
            Assert.Equal($"[parameters('{account}BlobEndpoint')]", (string)env[$"{prefix}__blobServiceUri"]["value"]!);
            Assert.Equal($"[parameters('{account}QueueEndpoint')]", (string)env[$"{prefix}__queueServiceUri"]["value"]!);
        }

        Assert.Equal("[parameters('hostTableEndpoint')]", (string)env["AzureWebJobsStorage__tableServiceUri"]["value"]!);
        Assert.Equal("[parameters('identityClientId')]", (string)env["AZURE_CLIENT_ID"]["value"]!);
        Assert.Equal("dotnet-isolated", (string)env["FUNCTIONS_WORKER_RUNTIME"]["value"]!);
        Assert.Equal("[if(variables('onGpu'), 'cuda', 'cpu')]", (string)env["Mage__Model__Device"]["value"]!); // evaluated per profile: ComputeProfileTests
        // The app accepts exactly one model source (Mage.Jobs ModelSettings): the image's folder
        // only while no blob prefix is given.
        Assert.Equal("[if(empty(parameters('modelBlobPrefix')), '/models/mage', '')]", (string)env["Mage__Model__PackagePath"]["value"]!);
        Assert.Equal("[parameters('modelBlobPrefix')]", (string)env["Mage__Model__BlobPrefix"]["value"]!);
    }

    [Fact]
    public void Secret_looking_settings_use_secret_refs_and_secrets_come_from_secure_parameters()
    {
        string[] secretMarkers = ["CONNECTION_STRING", "CONNECTIONSTRING", "PASSWORD", "SECRET", "TOKEN", "SAS", "KEY"];
        foreach (var (name, entry) in AppEnvByName)
        {
            // Setting names that merely describe where secrets live are not secrets themselves.
            if (name is "AzureWebJobsSecretStorageType")
            {
                continue;
            }

            if (secretMarkers.Any(m => name.Contains(m, StringComparison.OrdinalIgnoreCase)))
            {
                Assert.True(entry["secretRef"] is not null && entry["value"] is null, $"{name} must use a secretRef.");
            }
        }

        var secrets = App.Properties!["configuration"]!["secrets"]!.AsArray().OfType<JsonObject>().ToList();
        Assert.NotEmpty(secrets);
        foreach (var secret in secrets)
        {
            var value = (string)secret["value"]!;
            Assert.StartsWith("[parameters('", value, StringComparison.Ordinal);
            var parameterName = value["[parameters('".Length..value.IndexOf('\'', "[parameters('".Length)];
            Assert.Equal("securestring", (string)App.Parameter(parameterName)["type"]!);
        }

        var secretNames = secrets.Select(s => (string)s["name"]!).ToHashSet(StringComparer.Ordinal);
        Assert.All(AppEnv.OfType<JsonObject>().Where(e => e["secretRef"] is not null),
            e => Assert.Contains((string)e["secretRef"]!, secretNames));
    }

    [Fact]
    public void Host_keys_come_from_container_apps_secrets_mounted_where_the_host_reads_them()
    {
        Assert.Equal("containerapp", (string)AppEnvByName["AzureWebJobsSecretStorageType"]["value"]!);
        var volume = Assert.Single(App.Properties!["template"]!["volumes"]!.AsArray());
        Assert.Equal("Secret", (string)volume!["storageType"]!);
        var paths = volume["secrets"]!.AsArray().ToDictionary(s => (string)s!["path"]!, s => (string)s!["secretRef"]!, StringComparer.Ordinal);
        Assert.Equal("host-systemkey-blobs-extension", paths["host.systemKey.blobs_extension"]);
        Assert.Equal("host-master", paths["host.master"]);
        Assert.Equal("host-function-default", paths["host.function.default"]);
        var mount = Assert.Single(App.Properties!["template"]!["containers"]![0]!["volumeMounts"]!.AsArray());
        Assert.Equal("/run/secrets/functions-keys", (string)mount!["mountPath"]!);
        Assert.Equal((string)volume["name"]!, (string)mount["volumeName"]!);

        foreach (var key in new[] { "functionsMasterKey", "functionsHostKey", "blobsExtensionKey" })
        {
            var parameter = (JsonObject)Template.Root["parameters"]![key]!;
            Assert.Equal("securestring", (string)parameter["type"]!);
            Assert.Equal("[newGuid()]", (string)parameter["defaultValue"]!);
        }
    }

    [Fact]
    public void Event_grid_delivers_blob_created_in_uploads_to_the_blobs_webhook_after_the_app()
    {
        var subscription = Template.Single("Microsoft.EventGrid/systemTopics/eventSubscriptions");
        var filter = subscription.Properties!["filter"]!;
        Assert.Equal(["Microsoft.Storage.BlobCreated"], filter["includedEventTypes"]!.AsArray().Select(t => (string)t!));
        Assert.Equal("[format('/blobServices/default/containers/{0}/', parameters('uploadsContainer'))]", (string)filter["subjectBeginsWith"]!);
        var destination = subscription.Properties!["destination"]!;
        Assert.Equal("WebHook", (string)destination["endpointType"]!);
        Assert.Equal("[parameters('webhookUrl')]", (string)destination["properties"]!["endpointUrl"]!);

        var topic = Template.Single("Microsoft.EventGrid/systemTopics");
        Assert.Equal("Microsoft.Storage.StorageAccounts", (string)topic.Properties!["topicType"]!);

        var module = Template.Module("eventgrid");
        Assert.Equal("[variables('contract').containers[0]]", (string)module.ModuleParameter("uploadsContainer")!);
        Assert.Equal("uploads", fixture.ContractContainers[0]);
        var webhook = (string)module.ModuleParameter("webhookUrl")!;
        Assert.StartsWith("[format('https://{0}{1}?functionName=Host.Functions.{2}&code={3}'", webhook, StringComparison.Ordinal);
        Assert.Contains("variables('blobsWebhookPath')", webhook, StringComparison.Ordinal);
        Assert.Equal("/runtime/webhooks/blobs", (string)Template.Root["variables"]!["blobsWebhookPath"]!);
        // Main compiles to symbolic names (languageVersion 2.0): modules are referenced by symbol.
        Assert.Contains("reference('functionApp').outputs.fqdn.value", webhook, StringComparison.Ordinal);
        Assert.Contains("parameters('blobTriggerFunctionName')", webhook, StringComparison.Ordinal);
        Assert.Contains("parameters('blobsExtensionKey')", webhook, StringComparison.Ordinal);
        Assert.Equal("EmbedUpload", (string)Template.Root["parameters"]!["blobTriggerFunctionName"]!["defaultValue"]!);
        Assert.Contains(module.Node["dependsOn"]!.AsArray(), d => (string)d! == "functionApp");
    }

    [Fact]
    public void Role_assignments_use_the_chosen_built_in_roles_and_no_others()
    {
        var assignments = Template.OfType("Microsoft.Authorization/roleAssignments").ToList();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var assignment in assignments)
        {
            var expression = (string)assignment.Properties!["roleDefinitionId"]!;
            Assert.Contains("Microsoft.Authorization/roleDefinitions", expression, StringComparison.Ordinal);
            var guids = ResolveRoleGuids(assignment, expression).ToList();
            Assert.NotEmpty(guids);
            used.UnionWith(guids);
        }

        Assert.All(used, g => Assert.True(KnownRoles.ContainsKey(g), $"Unexpected role definition {g}."));
        foreach (var required in new[]
        {
            "Storage Blob Data Owner", "Storage Blob Data Reader", "Storage Blob Data Contributor",
            "Storage Queue Data Contributor", "Storage Table Data Contributor",
            "Azure Service Bus Data Sender", "AcrPull", "Monitoring Metrics Publisher",
        })
        {
            Assert.Contains(used, g => KnownRoles[g] == required);
        }
    }

    [Fact]
    public void Every_container_and_queue_in_the_contract_is_created()
    {
        var contract = Template.MainVariable("contract")!;
        Assert.Equal(fixture.ContractContainers, contract["containers"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(fixture.ContractQueues, contract["queues"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["uploads", "results", "jobs", "models"], fixture.ContractContainers);
        Assert.Equal(["mage-jobs", "mage-shards", "mage-edits", "mage-generate", "mage-events"], fixture.ContractQueues);

        // Which containers and queues exist, with which roles: StorageAccessTests, on the
        // evaluated deployment. Here: the storage module gets them from the contract.
        var storage = Template.Module("storage");
        Assert.Equal(
            "[union(createArray(variables('contract').containers[0], variables('contract').containers[3]), variables('callerContainers').source)]",
            (string)storage.ModuleParameter("readerContainers")!);
        Assert.Equal(
            "[union(createArray(variables('contract').containers[1], variables('contract').containers[2]), variables('callerContainers').output)]",
            (string)storage.ModuleParameter("contributorContainers")!);
        Assert.Equal("[variables('dataQueues')]", (string)storage.ModuleParameter("queueNames")!);
        Assert.Contains("variables('contract').queues", (string)Template.Root["variables"]!["dataQueues"]!, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.ContractQueues, q => q.EndsWith("-poison", StringComparison.Ordinal));
    }

    [Fact]
    public void Storage_settings_name_the_contract_containers_and_queues()
    {
        var module = Template.Module("functionapp");
        var names = module.ModuleParameter("storageNames")!.AsObject();
        var env = AppEnvByName;
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Mage__Storage__UploadsContainer"] = "[variables('contract').containers[0]]",
            ["Mage__Storage__ResultsContainer"] = "[variables('contract').containers[1]]",
            ["Mage__Storage__JobsContainer"] = "[variables('contract').containers[2]]",
            ["Mage__Storage__ModelsContainer"] = "[variables('contract').containers[3]]",
            ["Mage__Storage__JobsQueue"] = "[variables('contract').queues[0]]",
            ["Mage__Storage__ShardsQueue"] = "[variables('contract').queues[1]]",
            ["Mage__Storage__EditsQueue"] = "[variables('contract').queues[2]]",
            ["Mage__Storage__GenerateQueue"] = "[variables('contract').queues[3]]",
            ["Mage__Storage__EventsQueue"] = "[variables('contract').queues[4]]",
        };
        foreach (var (setting, source) in expected)
        {
            var value = (string)env[setting]["value"]!;
            var key = value["[parameters('storageNames').".Length..^1];
            Assert.Equal(source, (string)names[key]!);
        }
    }

    [Fact]
    public void Host_caps_request_bodies_at_a_parameter_defaulting_to_the_largest_body_the_api_accepts()
    {
        Assert.Equal("[string(parameters('requestBodySizeLimitBytes'))]", (string)AppEnvByName["FUNCTIONS_REQUEST_BODY_SIZE_LIMIT"]["value"]!);
        Assert.Equal("[parameters('requestBodySizeLimitBytes')]", (string)Template.Module("functionapp").ModuleParameter("requestBodySizeLimitBytes")!);

        // A multipart edit is the largest body; the host must let it through, and every other cap lies inside it.
        Assert.Equal(Mage.Jobs.Http.RequestApiService.MaxUploadBodyBytes, (int)Template.Root["parameters"]!["requestBodySizeLimitBytes"]!["defaultValue"]!);
        Assert.All(
            new[] { Mage.Jobs.Http.EmbeddingApiService.MaxBodyBytes, Mage.Jobs.Http.RequestApiService.MaxBodyBytes, Mage.Jobs.BulkJobs.JobApiService.MaxBodyBytes },
            cap => Assert.InRange(cap, 1, Mage.Jobs.Http.RequestApiService.MaxUploadBodyBytes));
    }

    [Fact]
    public void Outputs_give_azd_and_the_docs_what_they_use()
    {
        var outputs = Template.Root["outputs"]!.AsObject();
        foreach (var name in new[]
        {
            "AZURE_CONTAINER_REGISTRY_ENDPOINT", "AZURE_RESOURCE_GROUP", "AZURE_LOCATION", "MAGE_FUNCTIONS_FQDN",
            "MAGE_FUNCTIONS_APP_NAME", "MAGE_STORAGE_ACCOUNT_NAME", "MAGE_SERVICE_BUS_NAMESPACE", "MAGE_IDENTITY_CLIENT_ID",
        })
        {
            Assert.True(outputs.ContainsKey(name), $"Missing output {name}.");
        }

        Assert.Equal("functions", (string)Template.Module("functionapp").ModuleParameter("azdServiceName")!);
    }

    private static IEnumerable<string> ResolveRoleGuids(ArmResource assignment, string expression, int depth = 0)
    {
        // Role ids are literals, or variables (possibly arrays of variables, for looped assignments).
        Assert.True(depth < 5, $"Variable chain too deep at {expression}.");
        var guids = ArmTemplate.Guids(expression).ToList();
        foreach (var name in ArmTemplate.VariableReferences(expression))
        {
            guids.AddRange(ResolveRoleGuids(assignment, ArmTemplate.Json(assignment.Variable(name)!), depth + 1));
        }

        return guids;
    }
}
