using Microsoft.Extensions.DependencyInjection;

namespace Mage.Jobs.Tests.Infrastructure;

/// <summary>Wraps a service registered by <c>AddMage</c> in a test double that tests can reach by its own type.</summary>
public static class ServiceDecoration
{
    /// <summary>
    /// Replaces the last registration of <typeparamref name="TService"/> with <paramref name="wrap"/>
    /// applied to it, registered as a singleton both as <typeparamref name="TWrapper"/> and as
    /// <typeparamref name="TService"/>.
    /// </summary>
    public static void Decorate<TService, TWrapper>(IServiceCollection services, Func<TService, TWrapper> wrap)
        where TService : class
        where TWrapper : class, TService
    {
        var registered = services.Last(d => d.ServiceType == typeof(TService));
        services.Remove(registered);
        services.AddSingleton(sp => wrap((TService)(registered.ImplementationFactory?.Invoke(sp) ?? registered.ImplementationInstance
            ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!))));
        services.AddSingleton<TService>(sp => sp.GetRequiredService<TWrapper>());
    }
}
