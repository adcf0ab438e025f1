using System.ComponentModel.DataAnnotations;

namespace Mage.Jobs.Options;

/// <summary>Where completion events go (configuration section <c>Mage:Events</c>).</summary>
public sealed class EventSettings
{
    public const string Section = "Mage:Events";

    /// <summary>Fully qualified Service Bus namespace (x.servicebus.windows.net); empty = the storage queue <see cref="StorageSettings.EventsQueue"/>.</summary>
    [RegularExpression(@"^$|^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$", ErrorMessage = "Mage:Events:ServiceBusNamespace must be a host name such as x.servicebus.windows.net (no scheme, no path).")]
    public string? ServiceBusNamespace { get; set; }

    /// <summary>The Service Bus topic.</summary>
    [Required]
    public string Topic { get; set; } = "mage-events";

    /// <summary>True when events go to Service Bus.</summary>
    public bool UseServiceBus => !string.IsNullOrWhiteSpace(ServiceBusNamespace);
}
