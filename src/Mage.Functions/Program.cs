using Mage.Jobs.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.AddMage();
await builder.Build().RunAsync().ConfigureAwait(false);
